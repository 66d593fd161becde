/**
 * Typed deployment settings, read once from CDK context and validated before any construct is built.
 *
 * Settings come from the `deviceManager` context object (cdk.json, or `-c deviceManager='{...}'`), and
 * any single top-level setting can be overridden with its own key `deviceManager:<setting>`
 * (`-c deviceManager:stageName=prod`, `-c deviceManager:auth='{"type":"jwt",...}'`).
 * An invalid setting fails synth with an error that names it.
 */
import { indexedKeysProblem } from '../functions/domain/insights';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { parseDuration } from '../functions/domain/duration';
import { DEFAULT_GROUP_MAX_DEPTH } from '../functions/domain/groups';
import { DEFAULT_EVENT_RETENTION_DAYS, MAX_EVENT_RETENTION_DAYS } from '../functions/runtime/config';
import { isCorsOrigin } from '../functions/http/cors';
import { defaultDashboardScope } from '../functions/http/routes';
import {
  DEFAULT_DUE_SHARDS,
  DEFAULT_LIST_SHARDS,
  DEFAULT_STATS_SHARDS,
  DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS,
  isCaApiUrl,
  MAX_UNKNOWN_SERIAL_RETRY_SECONDS,
  SECRET_ARN,
} from '../functions/runtime/config';

/** The context key holding the settings object; also the prefix of the per-setting keys. */
export const CONTEXT_KEY = 'deviceManager';

/** What happens to stateful resources (the table, log groups) when the stack is deleted. */
export type RemovalPolicyName = 'retain' | 'destroy';

/** How API callers are authenticated. `none` exists for throwaway development stacks only. */
export type AuthConfig =
  | { readonly type: 'iam' }
  | {
      readonly type: 'jwt';
      readonly issuer: string;
      readonly audience: readonly string[];
      /**
       * Put before every route scope (`device-manager/` → `device-manager/devices:read`): Cognito names
       * resource-server scopes `<identifier>/<name>`. Default: none (bare scopes).
       */
      readonly scopePrefix?: string;
    }
  | { readonly type: 'none'; readonly iUnderstandThisIsInsecure: true };

export interface DeploymentConfig {
  /** Names the stack `DeviceManager-<stageName>`. */
  readonly stageName: string;
  readonly removalPolicy: RemovalPolicyName;
  /** Write shards of the list entry points (LIST_SHARDS of the functions). */
  readonly listShards: number;
  /** Shards of the statistics counters (STATS_SHARDS of the functions). */
  readonly statsShards: number;
  /**
   * Write shards of the due index (DUE_SHARDS of the functions). The sweeper reads shards 0..n-1 only:
   * lowering it on a populated table strands the due markers of the dropped shards.
   */
  readonly dueShards: number;
  /** Levels of the device group hierarchy, a root being level 1 (GROUP_MAX_DEPTH of the functions). */
  readonly groupMaxDepth: number;
  /** Days a device event item is kept before TTL deletes it (EVENT_RETENTION_DAYS of the functions). */
  readonly eventRetentionDays: number;
  /**
   * Concurrent certificate intake functions at most (the queue mapping's maximum concurrency): a CA's
   * burst of status updates waits in the queue instead of taking the account's Lambda slots.
   */
  readonly certificateIntakeConcurrency: number;
  /**
   * Metadata keys (dotted paths, at most 10) with index entries and counters: indexed
   * `metadata.<key>[eq|in]` filters, counter statistics, `GET /v2/stats/metadata/{key}`
   * (INDEXED_METADATA_KEYS of the functions). A key added later is back-filled by the sweeper.
   */
  readonly indexedMetadataKeys: readonly string[];
  /** Retention of every log group the stack creates; one of CloudWatch's allowed values. */
  readonly logRetentionDays: number;
  /** Interval of the status sweeper. */
  readonly sweepRateMinutes: number;
  /**
   * Renewal deltas used for devices whose DMS has no policy (`90d`, `36h`, `30m`); the functions read
   * them as DEFAULT_PREVENTIVE_DELTA and DEFAULT_CRITICAL_DELTA.
   */
  readonly renewalDefaults: { readonly preventiveDelta: string; readonly criticalDelta: string };
  /** `Source` of the events published on the stack's bus. */
  readonly eventSource: string;
  /**
   * Also publish Lamassu-typed events (source `service/devmanager`) and CA revocation requests
   * (docs/lamassu-compatibility.md); the functions read it as LAMASSU_EVENTS. Default false.
   */
  readonly lamassuEvents?: boolean;
  /**
   * Base URL of Lamassu's CA service (https, or http to a loopback host). With lamassuEvents, the
   * revocation requests are also sent there (`PUT /api/ca/v1/certificates/{serial}/status`) through
   * a queue with retries and a dead-letter queue (lib/constructs/ca-revocation.ts). Default: unset.
   */
  readonly caApiUrl?: string;
  /**
   * With caApiUrl: a Secrets Manager secret (ARN) whose string is the Authorization header value sent
   * to the CA (e.g. `Bearer ...`); the function may read only that secret. Default: unset (no header).
   */
  readonly caApiAuthHeaderSecretArn?: string;
  /**
   * With caApiAuthHeaderSecretArn: the customer-managed KMS key (ARN) that encrypts that secret; the
   * CA caller gets kms:Decrypt on it (through Secrets Manager only). Default: unset (AWS-managed key).
   */
  readonly caApiAuthHeaderSecretKmsKeyArn?: string;
  /**
   * `source` values the certificate intake accepts `certificate.status.update` from (the CA's): an event
   * with the right detail-type from any other source is not delivered, so a principal that may merely
   * PutEvents on the bus cannot revoke identities.
   */
  readonly certificateSources: readonly string[];
  /**
   * How long the certificate intake retries a status whose serial it does not find (the serial index
   * is read eventually consistently, so a status right after a bind can miss it) before it takes the
   * serial for one of no device; the functions read it as UNKNOWN_SERIAL_RETRY_SECONDS. Default 600.
   */
  readonly unknownSerialRetrySeconds: number;
  /** Powertools Tracer and active X-Ray tracing on every function. */
  readonly tracing: boolean;
  /** AWS IoT Core registry sync. */
  readonly iotSync: {
    readonly enabled: boolean;
    readonly metadataKeys: readonly string[];
    /** What a decommission does to the identity certificate in AWS IoT (default INACTIVE). */
    readonly decommissionCertificateStatus?: 'INACTIVE' | 'REVOKED';
  };
  readonly auth: AuthConfig;
  /** Default route throttling of the API stage. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * The web dashboard (S3 + CloudFront, the API on the same origin). Browsers sign in with OIDC
   * (authorization code + PKCE) at `auth.issuer`, so it needs JWT auth (or none, for development).
   */
  readonly dashboard: DashboardConfig;
  /**
   * Where every alarm of the stack notifies: an existing SNS topic, or a new topic with one e-mail subscription.
   * Default: no action.
   */
  readonly alarms?: AlarmsConfig;
  /** Browser origins allowed to call the HTTP API from another origin (CORS). Default: none (no CORS). */
  readonly cors?: CorsConfig;
}

export type AlarmsConfig = { readonly topicArn: string } | { readonly email: string };

export interface CorsConfig {
  /** Origins such as `https://dashboard.example.com` (http only for localhost, 127.0.0.1 or [::1]). */
  readonly allowedOrigins: readonly string[];
}

export interface DashboardConfig {
  readonly enabled: boolean;
  /** The OIDC client (a public client, no secret) registered at the issuer; required with JWT auth. */
  readonly clientId?: string;
  /** Scopes requested at sign-in; the access token must carry the route scopes. */
  readonly scope: string;
  /**
   * Origins besides the issuer that the page may call (Content-Security-Policy connect-src), e.g. a
   * Cognito hosted UI domain serving the token endpoint.
   */
  readonly connectSources: readonly string[];
  /**
   * A custom domain for the API (a regional ACM certificate of the stack's region). When set, the
   * API's default `execute-api` endpoint is disabled (it answers 403), CloudFront's `/v2/*` origin is
   * this name, and a DNS record must point the name at the stack output `ApiDomainTarget`.
   */
  readonly apiDomain?: { readonly name: string; readonly certificateArn: string };
}

export const DEFAULT_CONFIG: DeploymentConfig = {
  stageName: 'dev',
  removalPolicy: 'retain',
  listShards: DEFAULT_LIST_SHARDS,
  statsShards: DEFAULT_STATS_SHARDS,
  dueShards: DEFAULT_DUE_SHARDS,
  groupMaxDepth: DEFAULT_GROUP_MAX_DEPTH,
  eventRetentionDays: DEFAULT_EVENT_RETENTION_DAYS,
  certificateIntakeConcurrency: 5,
  indexedMetadataKeys: [],
  logRetentionDays: 30,
  sweepRateMinutes: 5,
  renewalDefaults: { preventiveDelta: '60d', criticalDelta: '14d' },
  eventSource: 'device-manager',
  certificateSources: ['lamassu.ca'],
  unknownSerialRetrySeconds: DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS,
  tracing: true,
  iotSync: { enabled: false, metadataKeys: [] },
  auth: { type: 'iam' },
  throttle: { rateLimit: 100, burstLimit: 200 },
  dashboard: { enabled: false, scope: defaultDashboardScope(), connectSources: [] },
};

/** An invalid deployment setting; `setting` is its dotted path, e.g. `deviceManager.listShards`. */
export class DeploymentConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting} ${problem}`, options);
    this.name = 'DeploymentConfigError';
  }
}

/** The retention values CloudWatch Logs accepts (RetentionDays, without INFINITE). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** AWS IoT allows 50 attributes on a typed thing; `status` and `dms_owner` take two. */
const MAX_IOT_METADATA_KEYS = 48;

type Kind = 'string' | 'integer' | 'json';

/** Top-level settings and how a string from `-c deviceManager:<setting>=...` is read. */
const SETTINGS: Record<keyof DeploymentConfig, Kind> = {
  stageName: 'string',
  removalPolicy: 'string',
  listShards: 'integer',
  statsShards: 'integer',
  dueShards: 'integer',
  groupMaxDepth: 'integer',
  eventRetentionDays: 'integer',
  certificateIntakeConcurrency: 'integer',
  indexedMetadataKeys: 'json',
  logRetentionDays: 'integer',
  sweepRateMinutes: 'integer',
  renewalDefaults: 'json',
  eventSource: 'string',
  lamassuEvents: 'json',
  caApiUrl: 'string',
  caApiAuthHeaderSecretArn: 'string',
  caApiAuthHeaderSecretKmsKeyArn: 'string',
  certificateSources: 'json',
  unknownSerialRetrySeconds: 'integer',
  tracing: 'json',
  iotSync: 'json',
  auth: 'json',
  throttle: 'json',
  dashboard: 'json',
  alarms: 'json',
  cors: 'json',
};

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function objectAt(value: unknown, setting: string): Raw {
  if (!isObject(value)) throw new DeploymentConfigError(setting, `must be an object (got ${describe(value)})`);
  return value;
}

function rejectUnknownKeys(value: Raw, setting: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new DeploymentConfigError(`${setting}.${key}`, `is not a known setting (known: ${known.join(', ')})`);
  }
}

function integer(value: unknown, fallback: number, setting: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DeploymentConfigError(setting, `must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

function matching(value: unknown, fallback: string, setting: string, pattern: RegExp, rule: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !pattern.test(value))
    throw new DeploymentConfigError(setting, `must be ${rule} (got ${describe(value)})`);
  return value;
}

function parseRenewalDefaults(value: unknown): DeploymentConfig['renewalDefaults'] {
  const setting = `${CONTEXT_KEY}.renewalDefaults`;
  if (value === undefined) return DEFAULT_CONFIG.renewalDefaults;
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['preventiveDelta', 'criticalDelta']);
  const defaults = DEFAULT_CONFIG.renewalDefaults;
  // The same parser as the DMS renewal policies, so defaults accept exactly what the API accepts.
  const duration = (name: 'preventiveDelta' | 'criticalDelta'): [string, number] => {
    const value = raw[name] ?? defaults[name];
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined)
      throw new DeploymentConfigError(
        `${setting}.${name}`,
        `must be a duration such as '90d', '36h', '30m' or '1d12h' (got ${describe(value)})`,
      );
    return [value as string, ms];
  };
  const [preventiveDelta, preventiveMs] = duration('preventiveDelta');
  const [criticalDelta, criticalMs] = duration('criticalDelta');
  if (criticalMs >= preventiveMs) {
    throw new DeploymentConfigError(
      `${setting}.criticalDelta`,
      `must be shorter than preventiveDelta (${criticalDelta} >= ${preventiveDelta})`,
    );
  }
  return { preventiveDelta, criticalDelta };
}

/** Thing attribute names AWS IoT accepts. */
const IOT_ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;

/** The same rule as the functions' INDEXED_METADATA_KEYS loader, so a deployed value never fails a cold start. */
function parseIndexedKeys(value: unknown, setting: string): string[] {
  if (value === undefined) return [...DEFAULT_CONFIG.indexedMetadataKeys];
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string'))
    throw new DeploymentConfigError(setting, `must be an array of strings (got ${describe(value)})`);
  const problem = indexedKeysProblem(value as string[]);
  if (problem) throw new DeploymentConfigError(setting, problem);
  return value as string[];
}

function parseIotSync(value: unknown): DeploymentConfig['iotSync'] {
  const setting = `${CONTEXT_KEY}.iotSync`;
  if (value === undefined) return DEFAULT_CONFIG.iotSync;
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['enabled', 'metadataKeys', 'decommissionCertificateStatus']);
  const enabled = raw.enabled ?? DEFAULT_CONFIG.iotSync.enabled;
  if (typeof enabled !== 'boolean')
    throw new DeploymentConfigError(`${setting}.enabled`, `must be true or false (got ${describe(enabled)})`);
  const keys = raw.metadataKeys ?? [];
  const rule = `must be an array of at most ${MAX_IOT_METADATA_KEYS} distinct AWS IoT attribute names`;
  if (!Array.isArray(keys) || keys.length > MAX_IOT_METADATA_KEYS || new Set(keys).size !== keys.length) {
    throw new DeploymentConfigError(`${setting}.metadataKeys`, `${rule} (got ${describe(keys)})`);
  }
  keys.forEach((key: unknown, i) => {
    if (typeof key !== 'string' || !IOT_ATTRIBUTE_NAME.test(key)) {
      throw new DeploymentConfigError(
        `${setting}.metadataKeys[${i}]`,
        `must match ${IOT_ATTRIBUTE_NAME} (got ${describe(key)})`,
      );
    }
  });
  const status = raw.decommissionCertificateStatus;
  if (status !== undefined && status !== 'INACTIVE' && status !== 'REVOKED') {
    throw new DeploymentConfigError(
      `${setting}.decommissionCertificateStatus`,
      `must be 'INACTIVE' or 'REVOKED' (got ${describe(status)})`,
    );
  }
  return {
    enabled,
    metadataKeys: keys as string[],
    ...(status === undefined ? {} : { decommissionCertificateStatus: status }),
  };
}

/** EventBridge sources (PutEvents `Source`): 1-256 characters; `aws.` ones are AWS services'. */
const EVENT_SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;

function parseCertificateSources(value: unknown): readonly string[] {
  const setting = `${CONTEXT_KEY}.certificateSources`;
  if (value === undefined) return DEFAULT_CONFIG.certificateSources;
  if (!Array.isArray(value) || value.length === 0 || value.length > 10 || new Set(value).size !== value.length) {
    throw new DeploymentConfigError(
      setting,
      `must be an array of 1 to 10 distinct event sources (got ${describe(value)})`,
    );
  }
  value.forEach((source: unknown, i) => {
    if (typeof source !== 'string' || !EVENT_SOURCE_NAME.test(source))
      throw new DeploymentConfigError(`${setting}[${i}]`, `must match ${EVENT_SOURCE_NAME} (got ${describe(source)})`);
  });
  return [...(value as string[])];
}

function boolean(value: unknown, fallback: boolean, setting: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new DeploymentConfigError(setting, `must be true or false (got ${describe(value)})`);
  return value;
}

function parseAuth(value: unknown): AuthConfig {
  const setting = `${CONTEXT_KEY}.auth`;
  if (value === undefined) return DEFAULT_CONFIG.auth;
  const raw = objectAt(value, setting);
  switch (raw.type) {
    case 'iam':
      rejectUnknownKeys(raw, setting, ['type']);
      return { type: 'iam' };
    case 'jwt': {
      rejectUnknownKeys(raw, setting, ['type', 'issuer', 'audience', 'scopePrefix']);
      const { issuer, audience, scopePrefix } = raw;
      if (typeof issuer !== 'string' || !/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer)) {
        throw new DeploymentConfigError(
          `${setting}.issuer`,
          `is required for JWT auth and must be an https:// URL (got ${describe(issuer)})`,
        );
      }
      if (
        !Array.isArray(audience) ||
        audience.length === 0 ||
        !audience.every((a) => typeof a === 'string' && a.trim() !== '')
      ) {
        throw new DeploymentConfigError(
          `${setting}.audience`,
          `is required for JWT auth and must be a non-empty array of non-empty strings (got ${describe(audience)})`,
        );
      }
      // What a scope may contain (RFC 6749 scope-token: printable ASCII but space, '"' and '\\').
      if (
        scopePrefix !== undefined &&
        (typeof scopePrefix !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(scopePrefix))
      ) {
        throw new DeploymentConfigError(
          `${setting}.scopePrefix`,
          `must be 1-200 printable characters without spaces, quotes ` +
            `or backslashes, e.g. 'device-manager/' (got ${describe(scopePrefix)})`,
        );
      }
      return {
        type: 'jwt',
        issuer,
        audience: [...(audience as string[])],
        ...(scopePrefix === undefined ? {} : { scopePrefix: scopePrefix as string }),
      };
    }
    case 'none':
      rejectUnknownKeys(raw, setting, ['type', 'iUnderstandThisIsInsecure']);
      if (raw.iUnderstandThisIsInsecure !== true) {
        throw new DeploymentConfigError(
          `${setting}.iUnderstandThisIsInsecure`,
          'must be true to deploy an API without any authorizer (anyone ' +
            'on the internet can call it; development stacks only). Use ' +
            "auth.type 'iam' or 'jwt' otherwise",
        );
      }
      return { type: 'none', iUnderstandThisIsInsecure: true };
    default:
      throw new DeploymentConfigError(`${setting}.type`, `must be 'iam', 'jwt' or 'none' (got ${describe(raw.type)})`);
  }
}

function parseThrottle(value: unknown): DeploymentConfig['throttle'] {
  const setting = `${CONTEXT_KEY}.throttle`;
  if (value === undefined) return DEFAULT_CONFIG.throttle;
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['rateLimit', 'burstLimit']);
  // The API Gateway account-level quotas (per region) are 10,000 requests/s and a burst of 5,000.
  return {
    rateLimit: integer(raw.rateLimit, DEFAULT_CONFIG.throttle.rateLimit, `${setting}.rateLimit`, 1, 10000),
    burstLimit: integer(raw.burstLimit, DEFAULT_CONFIG.throttle.burstLimit, `${setting}.burstLimit`, 1, 5000),
  };
}

const HTTPS_ORIGIN = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?$/;

function parseDashboard(value: unknown, auth: AuthConfig): DashboardConfig {
  const setting = `${CONTEXT_KEY}.dashboard`;
  const d = DEFAULT_CONFIG.dashboard;
  if (value === undefined)
    return auth.type === 'jwt' && auth.scopePrefix ? { ...d, scope: defaultDashboardScope(auth.scopePrefix) } : d;
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['enabled', 'clientId', 'scope', 'connectSources', 'apiDomain']);
  const enabled = raw.enabled ?? d.enabled;
  if (typeof enabled !== 'boolean')
    throw new DeploymentConfigError(`${setting}.enabled`, `must be true or false (got ${describe(enabled)})`);
  const clientId = raw.clientId;
  if (clientId !== undefined && (typeof clientId !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(clientId))) {
    throw new DeploymentConfigError(
      `${setting}.clientId`,
      `must be 1-256 printable characters without spaces (got ${describe(clientId)})`,
    );
  }
  // The default asks for every route scope, under the deployment's scope prefix.
  const scope = matching(
    raw.scope,
    defaultDashboardScope(auth.type === 'jwt' ? auth.scopePrefix : undefined),
    `${setting}.scope`,
    /^[\x21-\x7e]+( [\x21-\x7e]+)*$/,
    'space-separated OAuth scopes',
  );
  const sources = raw.connectSources ?? [];
  if (
    !Array.isArray(sources) ||
    sources.length > 10 ||
    !sources.every((s) => typeof s === 'string' && HTTPS_ORIGIN.test(s))
  ) {
    throw new DeploymentConfigError(
      `${setting}.connectSources`,
      `must be up to 10 https origins such as 'https://auth.example.com' (got ${describe(sources)})`,
    );
  }
  if (enabled && auth.type === 'iam') {
    throw new DeploymentConfigError(
      `${setting}.enabled`,
      "needs auth.type 'jwt' (browsers sign in with OIDC at the " +
        "JWT issuer; they cannot sign IAM requests), or 'none' for " +
        'development',
    );
  }
  if (enabled && auth.type === 'jwt' && clientId === undefined) {
    throw new DeploymentConfigError(
      `${setting}.clientId`,
      'is required with JWT auth: the OIDC client id the dashboard signs in with',
    );
  }
  const apiDomain = parseApiDomain(raw.apiDomain, `${setting}.apiDomain`);
  if (apiDomain && !enabled)
    throw new DeploymentConfigError(
      `${setting}.apiDomain`,
      'needs dashboard.enabled: it closes the execute-api endpoint behind CloudFront',
    );
  return {
    enabled,
    scope,
    connectSources: sources as string[],
    ...(clientId === undefined ? {} : { clientId: clientId as string }),
    ...(apiDomain ? { apiDomain } : {}),
  };
}

function parseApiDomain(value: unknown, setting: string): DashboardConfig['apiDomain'] {
  if (value === undefined) return undefined;
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['name', 'certificateArn']);
  if (
    typeof raw.name !== 'string' ||
    !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(raw.name)
  ) {
    throw new DeploymentConfigError(
      `${setting}.name`,
      `must be a lower-case DNS name such as 'api.devices.example.com' (got ${describe(raw.name)})`,
    );
  }
  if (
    typeof raw.certificateArn !== 'string' ||
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(raw.certificateArn)
  ) {
    throw new DeploymentConfigError(
      `${setting}.certificateArn`,
      `must be the ARN of an ACM certificate (got ${describe(raw.certificateArn)})`,
    );
  }
  return { name: raw.name, certificateArn: raw.certificateArn };
}

/**
 * Validates raw settings (the `deviceManager` context object) and fills in the defaults.
 * Pure: no CDK involved, so tests can call it directly.
 * @throws DeploymentConfigError naming the first invalid setting.
 */
export function parseConfig(raw: unknown): DeploymentConfig {
  const input = raw === undefined || raw === null ? {} : objectAt(raw, CONTEXT_KEY);
  rejectUnknownKeys(input, CONTEXT_KEY, Object.keys(SETTINGS));
  const at = (name: keyof DeploymentConfig) => `${CONTEXT_KEY}.${name}`;
  const d = DEFAULT_CONFIG;

  const removalPolicy = input.removalPolicy ?? d.removalPolicy;
  if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') {
    throw new DeploymentConfigError(
      at('removalPolicy'),
      `must be 'retain' or 'destroy' (got ${describe(removalPolicy)})`,
    );
  }
  const logRetentionDays = input.logRetentionDays ?? d.logRetentionDays;
  if (!(LOG_RETENTION_DAYS as readonly unknown[]).includes(logRetentionDays)) {
    throw new DeploymentConfigError(
      at('logRetentionDays'),
      `must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${describe(logRetentionDays)})`,
    );
  }

  const auth = parseAuth(input.auth);
  return {
    // The stage becomes part of the stack name: CloudFormation allows letters, digits and hyphens.
    stageName: matching(
      input.stageName,
      d.stageName,
      at('stageName'),
      /^[A-Za-z][A-Za-z0-9-]{0,31}$/,
      'a letter followed by up to 31 letters, digits or hyphens',
    ),
    removalPolicy,
    // Within the ranges of the functions' loader (functions/runtime/config.ts), so a deployed value never fails a cold
    // start.
    listShards: integer(input.listShards, d.listShards, at('listShards'), 1, 64),
    statsShards: integer(input.statsShards, d.statsShards, at('statsShards'), 1, 100),
    dueShards: integer(input.dueShards, d.dueShards, at('dueShards'), 1, 64),
    groupMaxDepth: integer(input.groupMaxDepth, d.groupMaxDepth, at('groupMaxDepth'), 1, 50),
    eventRetentionDays: integer(
      input.eventRetentionDays,
      d.eventRetentionDays,
      at('eventRetentionDays'),
      1,
      MAX_EVENT_RETENTION_DAYS,
    ),
    // SQS event sources take a maximum concurrency from 2 to 1000.
    certificateIntakeConcurrency: integer(
      input.certificateIntakeConcurrency,
      d.certificateIntakeConcurrency,
      at('certificateIntakeConcurrency'),
      2,
      1000,
    ),
    indexedMetadataKeys: parseIndexedKeys(input.indexedMetadataKeys, at('indexedMetadataKeys')),
    logRetentionDays: logRetentionDays as number,
    sweepRateMinutes: integer(input.sweepRateMinutes, d.sweepRateMinutes, at('sweepRateMinutes'), 1, 1440),
    renewalDefaults: parseRenewalDefaults(input.renewalDefaults),
    // EventBridge reserves sources starting with `aws.`.
    eventSource: matching(
      input.eventSource,
      d.eventSource,
      at('eventSource'),
      /^(?!aws\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/,
      "1-256 letters, digits, '.', '_', '/' or '-', not starting with 'aws.'",
    ),
    ...lamassuEventsSetting(input.lamassuEvents, at('lamassuEvents')),
    ...caApiUrlSetting(input.caApiUrl, input.lamassuEvents === true, at('caApiUrl')),
    ...caApiAuthSetting(input.caApiAuthHeaderSecretArn, input.caApiUrl !== undefined, at('caApiAuthHeaderSecretArn')),
    ...kmsKeySetting(
      input.caApiAuthHeaderSecretKmsKeyArn,
      input.caApiAuthHeaderSecretArn !== undefined,
      at('caApiAuthHeaderSecretKmsKeyArn'),
    ),
    certificateSources: parseCertificateSources(input.certificateSources),
    unknownSerialRetrySeconds: integer(
      input.unknownSerialRetrySeconds,
      d.unknownSerialRetrySeconds,
      at('unknownSerialRetrySeconds'),
      0,
      MAX_UNKNOWN_SERIAL_RETRY_SECONDS,
    ),
    tracing: boolean(input.tracing, d.tracing, at('tracing')),
    iotSync: parseIotSync(input.iotSync),
    auth,
    throttle: parseThrottle(input.throttle),
    dashboard: parseDashboard(input.dashboard, auth),
    ...alarmsSetting(input.alarms, at('alarms')),
    ...corsSetting(input.cors, at('cors')),
  };
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** A plain address (SNS confirms it by mail): no display name, no spaces. */
const EMAIL = /^[^\s@<>"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** `caApiAuthHeaderSecretKmsKeyArn`: a KMS key ARN (not an alias), only with caApiAuthHeaderSecretArn. */
function kmsKeySetting(value: unknown, secret: boolean, setting: string): { caApiAuthHeaderSecretKmsKeyArn?: string } {
  if (value === undefined) return {};
  if (typeof value !== 'string' || !KMS_KEY_ARN.test(value))
    throw new DeploymentConfigError(
      setting,
      `must be a KMS key ARN such as 'arn:aws:kms:eu-west-1:123456789012:key/<key id>' (got ${describe(value)})`,
    );
  if (!secret) throw new DeploymentConfigError(setting, 'needs caApiAuthHeaderSecretArn (the secret the key encrypts)');
  return { caApiAuthHeaderSecretKmsKeyArn: value };
}

/** `alarms`: exactly one of `topicArn` (an existing SNS topic) and `email` (a new topic). */
function alarmsSetting(value: unknown, setting: string): { alarms?: AlarmsConfig } {
  if (value === undefined) return {};
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['topicArn', 'email']);
  const keys = Object.keys(raw);
  if (keys.length !== 1)
    throw new DeploymentConfigError(setting, `must have exactly one of topicArn and email (got ${describe(value)})`);
  if (raw.topicArn !== undefined) {
    if (typeof raw.topicArn !== 'string' || !SNS_TOPIC_ARN.test(raw.topicArn))
      throw new DeploymentConfigError(
        `${setting}.topicArn`,
        `must be an SNS topic ARN such as 'arn:aws:sns:eu-west-1:123456789012:ops' (got ${describe(raw.topicArn)})`,
      );
    return { alarms: { topicArn: raw.topicArn } };
  }
  if (typeof raw.email !== 'string' || !EMAIL.test(raw.email))
    throw new DeploymentConfigError(
      `${setting}.email`,
      `must be an e-mail address such as 'ops@example.com' (got ${describe(raw.email)})`,
    );
  return { alarms: { email: raw.email } };
}

/** `cors`: `{allowedOrigins: [...]}`, 1 to 20 distinct origins without path or trailing slash. */
function corsSetting(value: unknown, setting: string): { cors?: CorsConfig } {
  if (value === undefined) return {};
  const raw = objectAt(value, setting);
  rejectUnknownKeys(raw, setting, ['allowedOrigins']);
  const origins = raw.allowedOrigins;
  if (
    !Array.isArray(origins) ||
    origins.length === 0 ||
    origins.length > 20 ||
    new Set(origins).size !== origins.length
  ) {
    throw new DeploymentConfigError(
      `${setting}.allowedOrigins`,
      `must be an array of 1 to 20 distinct origins (got ${describe(origins)})`,
    );
  }
  origins.forEach((origin: unknown, i) => {
    if (typeof origin !== 'string' || !isCorsOrigin(origin)) {
      throw new DeploymentConfigError(
        `${setting}.allowedOrigins[${i}]`,
        `must be an origin such as 'https://dashboard.example.com' ` +
          `(scheme and host, no path; http only to localhost) (got ${describe(origin)})`,
      );
    }
  });
  return { cors: { allowedOrigins: [...(origins as string[])] } };
}

/** `lamassuEvents`: a boolean; absent means off (and stays absent, like the defaults). */
function lamassuEventsSetting(value: unknown, setting: string): { lamassuEvents?: boolean } {
  if (value === undefined) return {};
  if (typeof value !== 'boolean')
    throw new DeploymentConfigError(setting, `must be true or false (got ${describe(value)})`);
  return { lamassuEvents: value };
}

/**
 * `caApiUrl`: an https URL (http only to a loopback host), and only with lamassuEvents (which publishes the requests
 * it serves).
 */
function caApiUrlSetting(value: unknown, lamassuEvents: boolean, setting: string): { caApiUrl?: string } {
  if (value === undefined) return {};
  if (typeof value !== 'string' || !isCaApiUrl(value)) {
    throw new DeploymentConfigError(
      setting,
      `must be an https URL (or http to localhost, 127.0.0.1 or ` +
        `[::1]) without credentials, query or fragment (got ${describe(value)})`,
    );
  }
  if (!lamassuEvents)
    throw new DeploymentConfigError(
      setting,
      'needs lamassuEvents: true (the revocation requests it sends are Lamassu events)',
    );
  return { caApiUrl: value };
}

/** `caApiAuthHeaderSecretArn`: a Secrets Manager secret ARN, only with caApiUrl. */
function caApiAuthSetting(value: unknown, caApiUrl: boolean, setting: string): { caApiAuthHeaderSecretArn?: string } {
  if (value === undefined) return {};
  if (typeof value !== 'string' || !SECRET_ARN.test(value))
    throw new DeploymentConfigError(
      setting,
      `must be a complete Secrets Manager secret ARN, with its 6-character suffix (got ${describe(value)})`,
    );
  if (!caApiUrl) throw new DeploymentConfigError(setting, 'needs caApiUrl');
  return { caApiAuthHeaderSecretArn: value };
}

/** Context values given on the command line are strings: read them as the setting's type. */
function fromContextString(name: string, kind: Kind, value: string, key: string): unknown {
  if (kind === 'string') return value;
  if (kind === 'integer') return /^-?[0-9]+$/.test(value.trim()) ? Number(value) : value;
  try {
    return JSON.parse(value);
  } catch (cause) {
    throw new DeploymentConfigError(key, `must be JSON for ${CONTEXT_KEY}.${name} (got ${describe(value)})`, { cause });
  }
}

/**
 * Reads the settings from a construct's context: the `deviceManager` object, overridden by any
 * `deviceManager:<setting>` keys, then validated by {@link parseConfig}.
 */
export function configFromContext(node: Node): DeploymentConfig {
  let base: unknown = node.tryGetContext(CONTEXT_KEY);
  if (typeof base === 'string') {
    try {
      base = JSON.parse(base);
    } catch (cause) {
      throw new DeploymentConfigError(CONTEXT_KEY, `must be a JSON object (got ${describe(base)})`, { cause });
    }
  }
  const merged: Raw = base === undefined || base === null ? {} : { ...objectAt(base, CONTEXT_KEY) };
  for (const [name, kind] of Object.entries(SETTINGS)) {
    const key = `${CONTEXT_KEY}:${name}`;
    const value: unknown = node.tryGetContext(key);
    if (value !== undefined)
      merged[name] = typeof value === 'string' ? fromContextString(name, kind, value, key) : value;
  }
  return parseConfig(merged);
}

/** The CDK removal policy of a setting value. */
export function toRemovalPolicy(name: RemovalPolicyName): RemovalPolicy {
  return name === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
