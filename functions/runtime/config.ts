/**
 * Runtime configuration, read once per cold start by a typed loader that fails with the variable's
 * name. No defaults for resource names; sizing knobs default to documented values.
 */
import { settingsProblems } from '../domain/policy';
import { DEFAULT_RENEWAL, type RenewalSettings } from '../domain/status';
import { DEFAULT_GROUP_MAX_DEPTH } from '../domain/groups';
import { indexedKeysProblem } from '../domain/insights';
import { DEFAULT_BACKOFF } from '../domain/backoff';
import {
  DEFAULT_LIST_BYTE_BUDGET,
  DEFAULT_REQUEST_TIME_BUDGET_MS,
  DEFAULT_STATS_READ_BYTE_BUDGET,
} from '../domain/query';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
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
  /** Keys the integrity check of list bookmarks: the key itself (BOOKMARK_SECRET, the local service)... */
  bookmarkSecret?: string;
  /** ...or the Secrets Manager secret holding it (BOOKMARK_SECRET_ARN, set by the stack). */
  bookmarkSecretArn?: string;
  /** Items one list request may read before returning a partial page. */
  listReadBudget: number;
  /** Items one statistics request may read before it answers 422 QUERY_TOO_BROAD. */
  statsReadBudget: number;
  /** Serialized bytes of devices one list page may hold, under Lambda's 6 MB response limit. */
  listByteBudget: number;
  /** Bytes of devices a statistics request may read before it answers 422 QUERY_TOO_BROAD. */
  statsReadByteBudget: number;
  /** Milliseconds a request may read or evaluate filters before it stops, under the function's timeout. */
  requestTimeBudgetMs: number;
  /** Metadata keys with index entries and counters (INDEXED_METADATA_KEYS, comma-separated, ≤ 10 dotted paths). */
  indexedMetadataKeys: string[];
  /** Levels of the device group hierarchy, a root being level 1 (GROUP_MAX_DEPTH). */
  groupMaxDepth: number;
  /** Days a device event item is kept before TTL deletes it (EVENT_RETENTION_DAYS). */
  eventRetentionDays: number;
  /** Days a remediation job's per-device outcome is kept before TTL deletes it (JOB_RETENTION_DAYS). */
  jobRetentionDays: number;
  dueShards: number;
  /** Renewal policy of DMSs without a stored one. */
  renewalDefaults: RenewalSettings;
  /** LAMASSU_EVENTS=true: device events record whole devices, for the Lamassu-typed events. */
  lamassuEvents: boolean;
  /** IOT_SYNC_ENABLED=true: the IoT sync keeps a state per device, shown as `iot` by GET /v2/devices/{id}. */
  iotSyncEnabled: boolean;
  /** IOT_PRESENCE=true: presence events keep each device's connectivity (`connectivity` of GET /v2/devices/{id}). */
  presenceEnabled: boolean;
  /** Seconds a blind write keeps retrying lost version races before answering 503 (VERSION_RETRY_SECONDS). */
  versionRetrySeconds: number;
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
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

/**
 * How long a certificate status for a serial not found is retried (UNKNOWN_SERIAL_RETRY_SECONDS):
 * the serial index (a GSI) is read eventually consistently, so a status arriving right after a bind
 * may not find the version. GSI propagation is usually well under a second, but has no upper bound
 * (a GSI under write pressure can lag minutes); ten minutes covers such episodes with margin, while a
 * serial of no device (a certificate of another service) costs only a few retries before it is
 * acknowledged and counted.
 */
export const DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS = 600;
export const MAX_UNKNOWN_SERIAL_RETRY_SECONDS = 3600;

export const DEFAULT_LIST_SHARDS = 4;
export const DEFAULT_STATS_SHARDS = 4;
export const DEFAULT_DUE_SHARDS = 4;

/**
 * The integer settings the stack hands to the functions: the variable, its default and its range. The
 * deployment settings (lib/config.ts) are validated against the same ranges, so a deployed value never
 * fails a cold start.
 */
export const INT_SETTINGS = {
  listShards: { variable: 'LIST_SHARDS', fallback: DEFAULT_LIST_SHARDS, min: 1, max: 64 },
  statsShards: { variable: 'STATS_SHARDS', fallback: DEFAULT_STATS_SHARDS, min: 1, max: 100 },
  dueShards: { variable: 'DUE_SHARDS', fallback: DEFAULT_DUE_SHARDS, min: 1, max: 64 },
  unknownSerialRetrySeconds: {
    variable: 'UNKNOWN_SERIAL_RETRY_SECONDS',
    fallback: DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS,
    min: 0,
    max: MAX_UNKNOWN_SERIAL_RETRY_SECONDS,
  },
} as const;

interface IntSetting {
  variable: string;
  fallback: number;
  min: number;
  max: number;
}

const intSetting = (env: Env, { variable, fallback, min, max }: IntSetting): number =>
  intVar(env, variable, fallback, min, max);

export function unknownSerialRetrySecondsOf(env: Env): number {
  return intSetting(env, INT_SETTINGS.unknownSerialRetrySeconds);
}

/** INDEXED_METADATA_KEYS: comma-separated dotted paths, at most 10. */
export function indexedMetadataKeysOf(env: Env): string[] {
  const keys = (env.INDEXED_METADATA_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const problem = indexedKeysProblem(keys);
  if (problem) throw new ConfigError('INDEXED_METADATA_KEYS', problem);
  return keys;
}

function renewalDefaults(env: Env): RenewalSettings {
  const settings = {
    preventive_delta: env.DEFAULT_PREVENTIVE_DELTA || DEFAULT_RENEWAL.preventive_delta,
    critical_delta: env.DEFAULT_CRITICAL_DELTA || DEFAULT_RENEWAL.critical_delta,
  };
  const problem = settingsProblems(settings, 'defaults')[0];
  if (problem)
    throw new ConfigError(
      problem.field.endsWith('critical_delta') ? 'DEFAULT_CRITICAL_DELTA' : 'DEFAULT_PREVENTIVE_DELTA',
      problem.problem,
    );
  return settings;
}

/** BOOKMARK_SECRET (a real key, 32+ characters, never a name anyone can read) or BOOKMARK_SECRET_ARN. */
export function bookmarkSecretConfig(env: Env): Pick<ServiceConfig, 'bookmarkSecret' | 'bookmarkSecretArn'> {
  const secret = env.BOOKMARK_SECRET || undefined;
  if (secret !== undefined && secret.length < 32)
    throw new ConfigError('BOOKMARK_SECRET', 'must be at least 32 characters (a random key)');
  return { bookmarkSecret: secret, bookmarkSecretArn: env.BOOKMARK_SECRET_ARN || undefined };
}

/** Device event history is kept 400 days by default, like a purged device's (docs/configuration.md). */
export const DEFAULT_EVENT_RETENTION_DAYS = 400;
/** About 100 years: longer history belongs in the event archive or an export (docs/operations.md). */
export const MAX_EVENT_RETENTION_DAYS = 36_500;
/** A job's per-device outcomes are kept 90 days by default (docs/configuration.md); the job item itself stays. */
export const DEFAULT_JOB_RETENTION_DAYS = 90;

export function loadConfig(env: Env = process.env): ServiceConfig {
  const tableName = required(env, 'TABLE_NAME');
  return {
    tableName,
    region: env.AWS_REGION,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    listShards: intSetting(env, INT_SETTINGS.listShards),
    statsShards: intSetting(env, INT_SETTINGS.statsShards),
    ...bookmarkSecretConfig(env),
    listReadBudget: intVar(env, 'LIST_READ_BUDGET', 2000, 100, 100000),
    statsReadBudget: intVar(env, 'STATS_READ_BUDGET', 10000, 100, 1000000),
    listByteBudget: intVar(env, 'LIST_BYTE_BUDGET', DEFAULT_LIST_BYTE_BUDGET, 100_000, 5_500_000),
    statsReadByteBudget: intVar(env, 'STATS_READ_BYTE_BUDGET', DEFAULT_STATS_READ_BYTE_BUDGET, 100_000, 1_000_000_000),
    requestTimeBudgetMs: intVar(env, 'REQUEST_TIME_BUDGET_MS', DEFAULT_REQUEST_TIME_BUDGET_MS, 100, 9000),
    indexedMetadataKeys: indexedMetadataKeysOf(env),
    groupMaxDepth: intVar(env, 'GROUP_MAX_DEPTH', DEFAULT_GROUP_MAX_DEPTH, 1, 64),
    eventRetentionDays: intVar(env, 'EVENT_RETENTION_DAYS', DEFAULT_EVENT_RETENTION_DAYS, 1, MAX_EVENT_RETENTION_DAYS),
    jobRetentionDays: intVar(env, 'JOB_RETENTION_DAYS', DEFAULT_JOB_RETENTION_DAYS, 1, MAX_EVENT_RETENTION_DAYS),
    dueShards: intSetting(env, INT_SETTINGS.dueShards),
    renewalDefaults: renewalDefaults(env),
    lamassuEvents: env.LAMASSU_EVENTS === 'true',
    iotSyncEnabled: env.IOT_SYNC_ENABLED === 'true',
    presenceEnabled: env.IOT_PRESENCE === 'true',
    versionRetrySeconds: intVar(env, 'VERSION_RETRY_SECONDS', DEFAULT_BACKOFF.budgetMs / 1000, 1, 60),
  };
}

/** The default `Source` of published events (docs/api.md, Events on EventBridge); EVENT_SOURCE overrides it. */
export const DEFAULT_EVENT_SOURCE = 'device-manager';
/** EventBridge sources: no `aws.` prefix (reserved). lib/config.ts validates the setting with it. */
export const EVENT_SOURCE_PATTERN = /^(?!aws\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;

/** EVENT_SOURCE, validated, or the default. */
export function eventSourceOf(env: Env): string {
  const source = env.EVENT_SOURCE || DEFAULT_EVENT_SOURCE;
  if (!EVENT_SOURCE_PATTERN.test(source))
    throw new ConfigError(
      'EVENT_SOURCE',
      `must be 1-256 letters, digits, '.', '_', '/' or '-', not starting with 'aws.', got '${source}'`,
    );
  return source;
}

/** The outbox publisher (functions/handlers/stream/publish-outbox.ts). */
export interface PublisherConfig {
  eventBusName: string;
  eventSource: string;
  /** Where events that cannot be published go, with the reason. */
  deadLetterQueueUrl: string;
  /** Sends of one entry before it is dead-lettered, the first included. */
  maxAttempts: number;
  region?: string;
  eventBridgeEndpoint?: string;
  sqsEndpoint?: string;
  /** LAMASSU_EVENTS=true: also publish Lamassu-typed events and CA revocation requests. */
  lamassuEvents: boolean;
}

export function loadPublisherConfig(env: Env = process.env): PublisherConfig {
  return {
    eventBusName: required(env, 'EVENT_BUS_NAME'),
    eventSource: eventSourceOf(env),
    deadLetterQueueUrl: required(env, 'PUBLISH_DLQ_URL'),
    maxAttempts: intVar(env, 'PUBLISH_MAX_ATTEMPTS', 6, 1, 20),
    region: env.AWS_REGION,
    eventBridgeEndpoint: env.EVENTBRIDGE_ENDPOINT || undefined,
    sqsEndpoint: env.SQS_ENDPOINT || undefined,
    lamassuEvents: env.LAMASSU_EVENTS === 'true',
  };
}

/** The background job queues (functions/handlers/scheduled/sweep.ts, functions/handlers/events/task-worker.ts). */
export interface TaskQueueConfig {
  /** SWEEP_QUEUE_URL: due-device tasks (status transitions). */
  sweepQueueUrl: string;
  /** JOB_QUEUE_URL: every other kind (back-fills, policy jobs). */
  jobQueueUrl: string;
  region?: string;
  sqsEndpoint?: string;
}

export function loadTaskQueueConfig(env: Env = process.env): TaskQueueConfig {
  return {
    sweepQueueUrl: required(env, 'SWEEP_QUEUE_URL'),
    jobQueueUrl: required(env, 'JOB_QUEUE_URL'),
    region: env.AWS_REGION,
    sqsEndpoint: env.SQS_ENDPOINT || undefined,
  };
}

/** The server-side import's file bucket (IMPORT_BUCKET: the stack's, set on the import routes and the worker). */
export function loadImportBucket(env: Env = process.env): { bucket: string; region?: string } {
  return { bucket: required(env, 'IMPORT_BUCKET'), region: env.AWS_REGION };
}

/** AWS IoT thing attributes: at most 50 on a thing with a thing type, 3 without one. */
export const IOT_MAX_ATTRIBUTES_TYPED = 50;
export const IOT_MAX_ATTRIBUTES_UNTYPED = 3;
/** Thing attribute names AWS IoT accepts (lib/config.ts validates iotSync.metadataKeys with it). */
export const IOT_ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;

/** AWS IoT shadow names: 1-64 of [a-zA-Z0-9:_-] (IOT_SHADOW_NAME, iotSync.shadowName). */
export const IOT_SHADOW_NAME = /^[a-zA-Z0-9:_-]{1,64}$/;
/** An AWS IoT data endpoint host (IOT_DATA_ENDPOINT, iotSync.dataEndpoint). */
export const IOT_DATA_ENDPOINT = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/** The AWS IoT registry sync (functions/handlers/events/iot-sync.ts, docs/api.md, AWS IoT Core registry sync). */
export interface IotSyncConfig {
  /** IOT_SYNC_ENABLED=true; when false the handler acknowledges every message and does nothing. */
  enabled: boolean;
  /** Device metadata keys copied to thing attributes, in order, up to the attribute limit. */
  metadataKeys: string[];
  /** Thing type of the things (allows 50 attributes); unset = untyped things (3 attributes). */
  thingTypeName?: string;
  /** What a decommission does to the identity certificate in AWS IoT. */
  decommissionCertificateStatus: 'INACTIVE' | 'REVOKED';
  region?: string;
  /** Account of the certificate ARNs; default: the account in the function's ARN. */
  accountId?: string;
  /** Points the IoT client elsewhere; locally, unset means a dry run. */
  iotEndpoint?: string;
  /** An identity certificate AWS IoT does not know: registered without a CA (default), with its CA, or not. */
  certificateRegistration: 'without-ca' | 'with-ca' | 'none';
  /** Calls per second this function instance makes, per AWS IoT API (`default` for the rest); IOT_API_RATES. */
  apiRates: Record<string, number>;
  /** IOT_IDENTITY_ACTIONS=true: the device shadow's `desired.identity_actions` is written. */
  identityActions: boolean;
  /** IOT_SHADOW_NAME: the named shadow of the identity actions; unset: the classic shadow. */
  shadowName?: string;
  /** IOT_DATA_ENDPOINT: the account's data endpoint; unset: DescribeEndpoint (or the SDK's endpoint variables). */
  iotDataEndpoint?: string;
  /** The role AWS IoT assumes to run the DMSs' JITP templates (IOT_PROVISIONING_ROLE_ARN); unset: none created. */
  provisioningRoleArn?: string;
}

/** An IAM role ARN (any partition). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** `Api=rate,Api=rate,default=rate` (IOT_API_RATES: calls per second per AWS IoT API) as rates. */
export function parseApiRates(text: string): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(entry);
    if (!match) throw new Error(`'${entry}' is not <Api>=<calls per second>`);
    rates[match[1]!] = Number(match[2]);
  }
  return rates;
}

export function loadIotSyncConfig(env: Env = process.env): IotSyncConfig {
  const metadataKeys = (env.IOT_METADATA_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const invalid = metadataKeys.find((k) => !IOT_ATTRIBUTE_NAME.test(k));
  if (invalid !== undefined)
    throw new ConfigError('IOT_METADATA_KEYS', `'${invalid}' is not an AWS IoT attribute name (${IOT_ATTRIBUTE_NAME})`);
  const thingTypeName = env.IOT_THING_TYPE || undefined;
  if (thingTypeName !== undefined && !/^[a-zA-Z0-9:_-]{1,128}$/.test(thingTypeName))
    throw new ConfigError('IOT_THING_TYPE', `must be 1-128 of [a-zA-Z0-9:_-], got '${thingTypeName}'`);
  const status = env.IOT_DECOMMISSION_CERTIFICATE_STATUS || 'INACTIVE';
  if (status !== 'INACTIVE' && status !== 'REVOKED')
    throw new ConfigError('IOT_DECOMMISSION_CERTIFICATE_STATUS', `must be INACTIVE or REVOKED, got '${status}'`);
  const accountId = env.AWS_ACCOUNT_ID || undefined;
  if (accountId !== undefined && !/^\d{12}$/.test(accountId))
    throw new ConfigError('AWS_ACCOUNT_ID', `must be 12 digits, got '${accountId}'`);
  const registration = env.IOT_CERTIFICATE_REGISTRATION || 'without-ca';
  if (registration !== 'without-ca' && registration !== 'with-ca' && registration !== 'none')
    throw new ConfigError('IOT_CERTIFICATE_REGISTRATION', `must be without-ca, with-ca or none, got '${registration}'`);
  const provisioningRoleArn = env.IOT_PROVISIONING_ROLE_ARN || undefined;
  if (provisioningRoleArn !== undefined && !ROLE_ARN.test(provisioningRoleArn))
    throw new ConfigError('IOT_PROVISIONING_ROLE_ARN', `must be an IAM role ARN, got '${provisioningRoleArn}'`);
  let apiRates: Record<string, number>;
  try {
    apiRates = parseApiRates(env.IOT_API_RATES ?? '');
  } catch (error) {
    throw new ConfigError('IOT_API_RATES', (error as Error).message);
  }
  const shadowName = env.IOT_SHADOW_NAME || undefined;
  if (shadowName !== undefined && !IOT_SHADOW_NAME.test(shadowName))
    throw new ConfigError('IOT_SHADOW_NAME', `must be 1-64 of [a-zA-Z0-9:_-], got '${shadowName}'`);
  const iotDataEndpoint = env.IOT_DATA_ENDPOINT || undefined;
  if (iotDataEndpoint !== undefined && !/^(https?:\/\/)?[A-Za-z0-9.:-]+\/?$/.test(iotDataEndpoint))
    throw new ConfigError('IOT_DATA_ENDPOINT', `must be a host name or URL, got '${iotDataEndpoint}'`);
  return {
    enabled: env.IOT_SYNC_ENABLED === 'true',
    apiRates,
    identityActions: env.IOT_IDENTITY_ACTIONS === 'true',
    ...(shadowName ? { shadowName } : {}),
    ...(iotDataEndpoint ? { iotDataEndpoint } : {}),
    certificateRegistration: registration,
    metadataKeys,
    thingTypeName,
    decommissionCertificateStatus: status,
    region: env.AWS_REGION,
    accountId,
    iotEndpoint: env.IOT_ENDPOINT || undefined,
    ...(provisioningRoleArn ? { provisioningRoleArn } : {}),
  };
}

/** The CA revocation call (functions/handlers/events/ca-revocation.ts, setting caApiUrl). */
export interface CaRevocationConfig {
  /** Base URL of Lamassu's CA service: https, or http to a loopback address. */
  caApiUrl: string;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /**
   * Secrets Manager secret whose string is the Authorization header value sent to the CA (CA_AUTH_HEADER_SECRET_ARN).
   */
  authHeaderSecretArn?: string;
}

/** True for a URL the CA may be called at: https, or http to a loopback host (lib/config.ts applies the same rule). */
export function isCaApiUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || url.search || url.hash) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export function loadCaRevocationConfig(env: Env = process.env): CaRevocationConfig {
  const caApiUrl = env.CA_API_URL ?? '';
  if (!isCaApiUrl(caApiUrl))
    throw new ConfigError(
      'CA_API_URL',
      `must be an https URL (or http to a loopback host) without credentials, query or fragment, got '${caApiUrl}'`,
    );
  const timeoutMs = Number(env.CA_TIMEOUT_MS ?? '5000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30_000)
    throw new ConfigError('CA_TIMEOUT_MS', `must be an integer from 100 to 30000, got '${env.CA_TIMEOUT_MS}'`);
  const authHeaderSecretArn = env.CA_AUTH_HEADER_SECRET_ARN || undefined;
  if (authHeaderSecretArn !== undefined && !SECRET_ARN.test(authHeaderSecretArn))
    throw new ConfigError(
      'CA_AUTH_HEADER_SECRET_ARN',
      `must be a complete Secrets Manager secret ARN (with its 6-character suffix), got '${authHeaderSecretArn}'`,
    );
  return { caApiUrl, timeoutMs, ...(authHeaderSecretArn ? { authHeaderSecretArn } : {}) };
}

/**
 * A complete Secrets Manager secret ARN, with its 6-character suffix (lib/config.ts applies it to
 * caApiAuthHeaderSecretArn).
 */
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
