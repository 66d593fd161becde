/**
 * Runtime configuration, read once per cold start by a typed loader that fails with the variable's
 * name. No defaults for resource names; sizing knobs default to documented values.
 */
import { settingsProblems } from '../domain/policy';
import { DEFAULT_RENEWAL, type RenewalSettings } from '../domain/status';
import { DEFAULT_GROUP_MAX_DEPTH } from '../domain/groups';

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`configuration ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export interface ServiceConfig {
  tableName: string;
  region?: string;
  /** Points the DynamoDB client elsewhere (the local engine); unset in AWS. */
  dynamodbEndpoint?: string;
  listShards: number;
  statsShards: number;
  /** Keys the integrity check of list bookmarks. */
  bookmarkSecret: string;
  /** Items one list request may read before returning a partial page. */
  listReadBudget: number;
  /** Levels of the device group hierarchy, a root being level 1 (GROUP_MAX_DEPTH). */
  groupMaxDepth: number;
  dueShards: number;
  /** Renewal policy of DMSs without a stored one. */
  renewalDefaults: RenewalSettings;
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(name, 'is required');
  return value;
}

/** Reads an integer variable within [min, max], or its default when unset. */
export function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

export const DEFAULT_LIST_SHARDS = 4;
export const DEFAULT_STATS_SHARDS = 4;
export const DEFAULT_DUE_SHARDS = 4;

function renewalDefaults(env: Env): RenewalSettings {
  const settings = { preventive_delta: env.DEFAULT_PREVENTIVE_DELTA || DEFAULT_RENEWAL.preventive_delta, critical_delta: env.DEFAULT_CRITICAL_DELTA || DEFAULT_RENEWAL.critical_delta };
  const problem = settingsProblems(settings, 'defaults')[0];
  if (problem) throw new ConfigError(problem.field.endsWith('critical_delta') ? 'DEFAULT_CRITICAL_DELTA' : 'DEFAULT_PREVENTIVE_DELTA', problem.problem);
  return settings;
}

export function loadConfig(env: Env = process.env): ServiceConfig {
  const tableName = required(env, 'TABLE_NAME');
  return {
    tableName,
    region: env.AWS_REGION,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    listShards: intVar(env, 'LIST_SHARDS', DEFAULT_LIST_SHARDS, 1, 64),
    statsShards: intVar(env, 'STATS_SHARDS', DEFAULT_STATS_SHARDS, 1, 100),
    bookmarkSecret: env.BOOKMARK_SECRET || `bookmark:${tableName}`,
    listReadBudget: intVar(env, 'LIST_READ_BUDGET', 2000, 100, 100000),
    groupMaxDepth: intVar(env, 'GROUP_MAX_DEPTH', DEFAULT_GROUP_MAX_DEPTH, 1, 64),
    dueShards: intVar(env, 'DUE_SHARDS', DEFAULT_DUE_SHARDS, 1, 64),
    renewalDefaults: renewalDefaults(env),
  };
}
