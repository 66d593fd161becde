/**
 * Runtime configuration, read once per cold start by a typed loader that fails with the variable's
 * name. No defaults for resource names; sizing knobs default to documented values.
 */
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
  };
}
