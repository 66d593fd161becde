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
import {
  DEFAULT_EVENT_RETENTION_DAYS,
  DEFAULT_JOB_RETENTION_DAYS,
  MAX_EVENT_RETENTION_DAYS,
} from '../functions/runtime/config';
import { isCorsOrigin } from '../functions/http/cors';
import { defaultDashboardScope } from '../functions/http/routes';
import { z } from 'zod';
import {
  DEFAULT_DUE_SHARDS,
  DEFAULT_LIST_SHARDS,
  DEFAULT_STATS_SHARDS,
  DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS,
  EVENT_SOURCE_PATTERN,
  INT_SETTINGS,
  IOT_ATTRIBUTE_NAME,
  IOT_DATA_ENDPOINT,
  IOT_SHADOW_NAME,
  isCaApiUrl,
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
  /** Days a job's per-device outcome is kept before TTL deletes it (JOB_RETENTION_DAYS of the job worker). */
  readonly jobRetentionDays: number;
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
   * Transition workers of the sweeper: the maximum concurrency of its transitions queue (2-1000;
   * SWEEP_WORKERS locally). Each worker takes one page of due devices at a time.
   */
  readonly sweepWorkers: number;
  /** Workers of the back-fill and policy-job tasks: the maximum concurrency of the jobs queue (2-1000). */
  readonly jobWorkers: number;
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
  /**
   * Powertools Tracer and active X-Ray tracing on every function. Off by default: loading the Tracer and
   * the X-Ray SDK adds about a fifth of a bare DynamoDB client's init to every cold start
   * (docs/cold-starts.md).
   */
  readonly tracing: boolean;
  /**
   * Stack traces mapped to the sources at run time (NODE_OPTIONS=--enable-source-maps). Off by default:
   * it reads and parses each bundle's source map at every cold start (docs/cold-starts.md); the map
   * ships beside the bundle either way, so a minified trace can be mapped afterwards.
   */
  readonly sourceMaps: boolean;
  /** AWS IoT Core registry sync. */
  readonly iotSync: {
    readonly enabled: boolean;
    readonly metadataKeys: readonly string[];
    /** What a decommission does to the identity certificate in AWS IoT (default INACTIVE). */
    readonly decommissionCertificateStatus?: 'INACTIVE' | 'REVOKED';
    /**
     * Calls per second the whole sync makes per AWS IoT API (`default` for the others): set them to the
     * account's AWS IoT quotas. Default {@link DEFAULT_IOT_API_RATES}.
     */
    readonly apiRates?: Readonly<Record<string, number>>;
    /**
     * An identity certificate AWS IoT does not know: registered without a CA (`without-ca`, the
     * default: multi-account / SNI mode), with its CA registered in AWS IoT (`with-ca`), or not (`none`).
     */
    readonly certificateRegistration?: 'without-ca' | 'with-ca' | 'none';
    /**
     * The device shadow's `desired.identity_actions` (UPDATE_CERTIFICATE while the identity is
     * RENEWAL_PENDING or EXPIRING_SOON, cleared when a renewal lands); default true.
     */
    readonly identityActions?: boolean;
    /** The named shadow that carries the identity actions; absent: the classic (unnamed) shadow. */
    readonly shadowName?: string;
    /** The account's AWS IoT data endpoint (`<prefix>-ats.iot.<region>.amazonaws.com`); absent: DescribeEndpoint. */
    readonly dataEndpoint?: string;
    /**
     * AWS IoT presence events (`$aws/events/presence/...`) → each device's `connectivity`, the `connected`
     * list filter and statistics; default true.
     */
    readonly presence?: boolean;
    /** Days after which a disconnected device in service counts in the DevicesNotSeen metric (default 7). */
    readonly notSeenDays?: number;
    /** The DevicesNotSeen alarm fires above this many devices (default 0). */
    readonly notSeenAlarmAbove?: number;
  };
  readonly auth: AuthConfig;
  /** Default route throttling of the API stage (docs/configuration.md, API throttling). */
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
  jobRetentionDays: DEFAULT_JOB_RETENTION_DAYS,
  certificateIntakeConcurrency: 5,
  indexedMetadataKeys: [],
  logRetentionDays: 30,
  sweepRateMinutes: 5,
  sweepWorkers: 32,
  jobWorkers: 4,
  renewalDefaults: { preventiveDelta: '60d', criticalDelta: '14d' },
  eventSource: 'device-manager',
  certificateSources: ['lamassu.ca'],
  unknownSerialRetrySeconds: DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS,
  tracing: false,
  sourceMaps: false,
  iotSync: { enabled: false, metadataKeys: [] },
  auth: { type: 'iam' },
  // Per route: above the steady write rate of a 10M fleet (about 116 PATCH/s) with room for bulk
  // work; the account's regional API Gateway quota (10,000 rps) bounds all routes together.
  throttle: { rateLimit: 1000, burstLimit: 2000 },
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
/** A conservative rate per AWS IoT API for the whole deployment, below the default account quotas. */
export const DEFAULT_IOT_API_RATES: Readonly<Record<string, number>> = { default: 10 };
const isApiRates = (v: unknown) =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.entries(v).every(
    ([api, rate]) => /^[A-Za-z]{1,64}$/.test(api) && typeof rate === 'number' && rate > 0 && rate <= 10_000,
  );

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
  jobRetentionDays: 'integer',
  certificateIntakeConcurrency: 'integer',
  indexedMetadataKeys: 'json',
  logRetentionDays: 'integer',
  sweepRateMinutes: 'integer',
  sweepWorkers: 'integer',
  jobWorkers: 'integer',
  renewalDefaults: 'json',
  eventSource: 'string',
  lamassuEvents: 'json',
  caApiUrl: 'string',
  caApiAuthHeaderSecretArn: 'string',
  caApiAuthHeaderSecretKmsKeyArn: 'string',
  certificateSources: 'json',
  unknownSerialRetrySeconds: 'integer',
  tracing: 'json',
  sourceMaps: 'json',
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

/*
 * The schema: one zod schema for the whole settings object. The rules the functions apply to the same
 * values at cold start (ranges, patterns, the CA URL and secret ARN, indexed keys) come from their loader
 * (functions/runtime/config.ts), so a deployed value never fails a cold start. Each issue's message is
 * the error's text after the setting's path.
 */

const got = (iss: { input?: unknown }) => ` (got ${describe(iss.input)})`;

/** A value `accepts` takes, or the issue `<rule> (got ...)`. */
const rule = <T>(accepts: (value: unknown) => boolean, text: string) =>
  z.custom<T>(accepts, { error: (iss) => `${text}${got(iss)}` });

/** A value `accepts` takes, or the issue `must be <what> (got ...)`. */
const valid = <T>(accepts: (value: unknown) => boolean, what: string) => rule<T>(accepts, `must be ${what}`);

const integer = ({ min, max }: { min: number; max: number }) =>
  valid<number>(
    (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
    `an integer from ${min} to ${max}`,
  );

const bool = valid<boolean>((v) => typeof v === 'boolean', 'true or false');

const matching = (pattern: RegExp, rule: string) =>
  valid<string>((v) => typeof v === 'string' && pattern.test(v), rule);

/** An object with exactly these keys (each optional unless its schema says otherwise). */
const settingsObject = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `is not a known setting (known: ${Object.keys(shape).join(', ')})`
        : `must be an object${got(iss)}`,
  });

/** An array checked whole (`accepts`, `rule`) before each element is. */
const arrayOf = <T extends z.ZodType>(accepts: (value: unknown[]) => boolean, rule: string, element: T) =>
  valid<unknown[]>((v) => Array.isArray(v) && accepts(v), rule).pipe(z.array(element));

const distinct = (values: unknown[]) => new Set(values).size === values.length;

const DURATION = valid<string>(
  (v) => typeof v === 'string' && parseDuration(v) !== undefined,
  "a duration such as '90d', '36h', '30m' or '1d12h'",
);

/** EventBridge sources (PutEvents `Source`): 1-256 characters; `aws.` ones are AWS services'. */
const EVENT_SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;
const HTTPS_ORIGIN = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** A plain address (SNS confirms it by mail): no display name, no spaces. */
const EMAIL = /^[^\s@<>"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
/** What a scope may contain (RFC 6749 scope-token: printable ASCII but space, '"' and '\\'). */
const SCOPE_PREFIX = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

const jwtAuth = settingsObject({
  type: z.literal('jwt'),
  issuer: rule<string>(
    (v) => typeof v === 'string' && /^https:\/\/[^\s/]+(\/\S*)?$/.test(v),
    'is required for JWT auth and must be an https:// URL',
  ),
  audience: rule<string[]>(
    (v) => Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string' && a.trim() !== ''),
    'is required for JWT auth and must be a non-empty array of non-empty strings',
  ),
  scopePrefix: matching(
    SCOPE_PREFIX,
    "1-200 printable characters without spaces, quotes or backslashes, e.g. 'device-manager/'",
  ).optional(),
});

const AUTH_SCHEMAS = {
  iam: settingsObject({ type: z.literal('iam') }),
  jwt: jwtAuth,
  none: settingsObject({
    type: z.literal('none'),
    iUnderstandThisIsInsecure: z.custom<true>((v) => v === true, {
      error:
        'must be true to deploy an API without any authorizer (anyone on the internet can call it; development ' +
        "stacks only). Use auth.type 'iam' or 'jwt' otherwise",
    }),
  }),
};

const authSchema = valid<Raw>(isObject, 'an object').pipe(
  z.discriminatedUnion('type', [AUTH_SCHEMAS.iam, AUTH_SCHEMAS.jwt, AUTH_SCHEMAS.none], {
    error: (iss) => `must be 'iam', 'jwt' or 'none'${got({ input: (iss.input as Raw | undefined)?.type })}`,
  }),
);

const SETTINGS_SCHEMA = settingsObject({
  // The stage becomes part of the stack name: CloudFormation allows letters, digits and hyphens.
  stageName: matching(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'a letter followed by up to 31 letters, digits or hyphens'),
  removalPolicy: valid<RemovalPolicyName>((v) => v === 'retain' || v === 'destroy', "'retain' or 'destroy'"),
  listShards: integer(INT_SETTINGS.listShards),
  statsShards: integer(INT_SETTINGS.statsShards),
  dueShards: integer(INT_SETTINGS.dueShards),
  groupMaxDepth: integer({ min: 1, max: 50 }),
  eventRetentionDays: integer({ min: 1, max: MAX_EVENT_RETENTION_DAYS }),
  jobRetentionDays: integer({ min: 1, max: MAX_EVENT_RETENTION_DAYS }),
  // SQS event sources take a maximum concurrency from 2 to 1000.
  certificateIntakeConcurrency: integer({ min: 2, max: 1000 }),
  indexedMetadataKeys: valid<string[]>(
    (v) => Array.isArray(v) && v.every((k) => typeof k === 'string'),
    'an array of strings',
  ).superRefine((keys, ctx) => {
    // The rule of the functions' INDEXED_METADATA_KEYS loader.
    const problem = indexedKeysProblem(keys);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  logRetentionDays: valid<number>(
    (v) => (LOG_RETENTION_DAYS as readonly unknown[]).includes(v),
    `one of ${LOG_RETENTION_DAYS.join(', ')}`,
  ),
  sweepRateMinutes: integer({ min: 1, max: 1440 }),
  // SQS event sources take a maximum concurrency from 2 to 1000.
  sweepWorkers: integer({ min: 2, max: 1000 }),
  jobWorkers: integer({ min: 2, max: 1000 }),
  renewalDefaults: settingsObject({ preventiveDelta: DURATION.optional(), criticalDelta: DURATION.optional() }),
  // EventBridge reserves sources starting with `aws.`.
  eventSource: matching(EVENT_SOURCE_PATTERN, "1-256 letters, digits, '.', '_', '/' or '-', not starting with 'aws.'"),
  lamassuEvents: bool,
  caApiUrl: valid<string>(
    (v) => typeof v === 'string' && isCaApiUrl(v),
    'an https URL (or http to localhost, 127.0.0.1 or [::1]) without credentials, query or fragment',
  ),
  caApiAuthHeaderSecretArn: matching(SECRET_ARN, 'a complete Secrets Manager secret ARN, with its 6-character suffix'),
  caApiAuthHeaderSecretKmsKeyArn: matching(
    KMS_KEY_ARN,
    "a KMS key ARN such as 'arn:aws:kms:eu-west-1:123456789012:key/<key id>'",
  ),
  certificateSources: arrayOf(
    (v) => v.length > 0 && v.length <= 10 && distinct(v),
    'an array of 1 to 10 distinct event sources',
    rule<string>((v) => typeof v === 'string' && EVENT_SOURCE_NAME.test(v), `must match ${EVENT_SOURCE_NAME}`),
  ),
  unknownSerialRetrySeconds: integer(INT_SETTINGS.unknownSerialRetrySeconds),
  tracing: bool,
  sourceMaps: bool,
  iotSync: settingsObject({
    enabled: bool.optional(),
    metadataKeys: arrayOf(
      (v) => v.length <= MAX_IOT_METADATA_KEYS && distinct(v),
      `an array of at most ${MAX_IOT_METADATA_KEYS} distinct AWS IoT attribute names`,
      rule<string>((v) => typeof v === 'string' && IOT_ATTRIBUTE_NAME.test(v), `must match ${IOT_ATTRIBUTE_NAME}`),
    ).optional(),
    decommissionCertificateStatus: valid<'INACTIVE' | 'REVOKED'>(
      (v) => v === 'INACTIVE' || v === 'REVOKED',
      "'INACTIVE' or 'REVOKED'",
    ).optional(),
    apiRates: valid<Record<string, number>>(
      isApiRates,
      'calls per second by AWS IoT API name (letters) or default, each > 0 and ≤ 10000',
    ).optional(),
    certificateRegistration: valid<'without-ca' | 'with-ca' | 'none'>(
      (v) => v === 'without-ca' || v === 'with-ca' || v === 'none',
      "'without-ca', 'with-ca' or 'none'",
    ).optional(),
    identityActions: bool.optional(),
    shadowName: matching(IOT_SHADOW_NAME, `an AWS IoT shadow name (${IOT_SHADOW_NAME})`).optional(),
    dataEndpoint: matching(
      IOT_DATA_ENDPOINT,
      "a host name such as 'abc123-ats.iot.eu-west-1.amazonaws.com'",
    ).optional(),
    presence: bool.optional(),
    notSeenDays: integer({ min: 1, max: 3650 }).optional(),
    notSeenAlarmAbove: integer({ min: 0, max: 100_000_000 }).optional(),
  }),
  auth: authSchema,
  // The API Gateway account-level quotas (per region) are 10,000 requests/s and a burst of 5,000.
  throttle: settingsObject({
    rateLimit: integer({ min: 1, max: 10000 }).optional(),
    burstLimit: integer({ min: 1, max: 5000 }).optional(),
  }),
  dashboard: settingsObject({
    enabled: bool.optional(),
    clientId: matching(/^[\x21-\x7e]{1,256}$/, '1-256 printable characters without spaces').optional(),
    scope: matching(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'space-separated OAuth scopes').optional(),
    connectSources: arrayOf(
      (v) => v.length <= 10 && v.every((s) => typeof s === 'string' && HTTPS_ORIGIN.test(s)),
      "up to 10 https origins such as 'https://auth.example.com'",
      z.string(),
    ).optional(),
    apiDomain: settingsObject({
      name: matching(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        "a lower-case DNS name such as 'api.devices.example.com'",
      ),
      certificateArn: matching(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        'the ARN of an ACM certificate',
      ),
    }).optional(),
  }),
  alarms: settingsObject({
    topicArn: matching(SNS_TOPIC_ARN, "an SNS topic ARN such as 'arn:aws:sns:eu-west-1:123456789012:ops'").optional(),
    email: matching(EMAIL, "an e-mail address such as 'ops@example.com'").optional(),
  }),
  cors: settingsObject({
    allowedOrigins: arrayOf(
      (v) => v.length > 0 && v.length <= 20 && distinct(v),
      'an array of 1 to 20 distinct origins',
      valid<string>(
        (v) => typeof v === 'string' && isCorsOrigin(v),
        "an origin such as 'https://dashboard.example.com' (scheme and host, no path; http only to localhost)",
      ),
    ),
  }),
}).partial();

type Settings = z.infer<typeof SETTINGS_SCHEMA>;

/** `deviceManager.iotSync.metadataKeys[1]` for the issue path `iotSync, metadataKeys, 1`. */
function settingPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (at, key) => (typeof key === 'number' ? `${at}[${key}]` : `${at}.${String(key)}`),
    CONTEXT_KEY,
  );
}

/** The first issue of the schema, as the error naming its setting. */
function validated(raw: unknown): Settings {
  const result = SETTINGS_SCHEMA.safeParse(raw === undefined || raw === null ? {} : raw);
  if (result.success) return result.data;
  // Unknown keys first, then the settings in their order, as each object's own check would find them.
  const order = Object.keys(SETTINGS);
  const rank = (i: z.core.$ZodIssue) =>
    (i.path.length === 0 ? -1 : order.indexOf(String(i.path[0]))) * 2 + (i.code === 'unrecognized_keys' ? 0 : 1);
  const issue = [...result.error.issues].sort((a, b) => rank(a) - rank(b))[0]!;
  const key = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
  throw new DeploymentConfigError(settingPath([...issue.path, ...key]), issue.message);
}

/** The rules between settings, after each one is valid on its own. */
function crossChecked(input: Settings): void {
  const at = (...path: string[]) => settingPath(path);
  const { renewalDefaults, auth, dashboard, alarms } = input;
  if (renewalDefaults) {
    // The same parser as the DMS renewal policies, so defaults accept exactly what the API accepts.
    const preventive = renewalDefaults.preventiveDelta ?? DEFAULT_CONFIG.renewalDefaults.preventiveDelta;
    const critical = renewalDefaults.criticalDelta ?? DEFAULT_CONFIG.renewalDefaults.criticalDelta;
    if (parseDuration(critical)! >= parseDuration(preventive)!)
      throw new DeploymentConfigError(
        at('renewalDefaults', 'criticalDelta'),
        `must be shorter than preventiveDelta (${critical} >= ${preventive})`,
      );
  }
  if (input.caApiUrl !== undefined && input.lamassuEvents !== true)
    throw new DeploymentConfigError(
      at('caApiUrl'),
      'needs lamassuEvents: true (the revocation requests it sends are Lamassu events)',
    );
  if (input.caApiAuthHeaderSecretArn !== undefined && input.caApiUrl === undefined)
    throw new DeploymentConfigError(at('caApiAuthHeaderSecretArn'), 'needs caApiUrl');
  if (input.caApiAuthHeaderSecretKmsKeyArn !== undefined && input.caApiAuthHeaderSecretArn === undefined)
    throw new DeploymentConfigError(
      at('caApiAuthHeaderSecretKmsKeyArn'),
      'needs caApiAuthHeaderSecretArn (the secret the key encrypts)',
    );
  if (dashboard?.enabled && (auth?.type ?? 'iam') === 'iam')
    throw new DeploymentConfigError(
      at('dashboard', 'enabled'),
      "needs auth.type 'jwt' (browsers sign in with OIDC at the JWT issuer; they cannot sign IAM requests), " +
        "or 'none' for development",
    );
  if (dashboard?.enabled && auth?.type === 'jwt' && dashboard.clientId === undefined)
    throw new DeploymentConfigError(
      at('dashboard', 'clientId'),
      'is required with JWT auth: the OIDC client id the dashboard signs in with',
    );
  if (dashboard?.apiDomain && !dashboard.enabled)
    throw new DeploymentConfigError(
      at('dashboard', 'apiDomain'),
      'needs dashboard.enabled: it closes the execute-api endpoint behind CloudFront',
    );
  if (alarms && Object.keys(alarms).length !== 1)
    throw new DeploymentConfigError(
      at('alarms'),
      `must have exactly one of topicArn and email (got ${describe(alarms)})`,
    );
}

function authOf(auth: Settings['auth']): AuthConfig {
  switch (auth?.type) {
    case undefined:
      return DEFAULT_CONFIG.auth;
    case 'iam':
      return { type: 'iam' };
    case 'jwt':
      return {
        type: 'jwt',
        issuer: auth.issuer,
        audience: [...auth.audience],
        ...(auth.scopePrefix === undefined ? {} : { scopePrefix: auth.scopePrefix }),
      };
    case 'none':
      return { type: 'none', iUnderstandThisIsInsecure: true };
  }
}

function dashboardOf(dashboard: Settings['dashboard'], auth: AuthConfig): DashboardConfig {
  // The default asks for every route scope, under the deployment's scope prefix.
  const scope = defaultDashboardScope(auth.type === 'jwt' ? auth.scopePrefix : undefined);
  if (dashboard === undefined) return { ...DEFAULT_CONFIG.dashboard, scope };
  return {
    enabled: dashboard.enabled ?? DEFAULT_CONFIG.dashboard.enabled,
    scope: dashboard.scope ?? scope,
    connectSources: [...((dashboard.connectSources as string[] | undefined) ?? [])],
    ...(dashboard.clientId === undefined ? {} : { clientId: dashboard.clientId }),
    ...(dashboard.apiDomain ? { apiDomain: { ...dashboard.apiDomain } } : {}),
  };
}

/**
 * Validates raw settings (the `deviceManager` context object) and fills in the defaults.
 * Pure: no CDK involved, so tests can call it directly.
 * @throws DeploymentConfigError naming the first invalid setting.
 */
export function parseConfig(raw: unknown): DeploymentConfig {
  const input = validated(raw);
  crossChecked(input);
  const d = DEFAULT_CONFIG;
  const auth = authOf(input.auth);
  const iotStatus = input.iotSync?.decommissionCertificateStatus;
  const alarms = input.alarms;
  return {
    stageName: input.stageName ?? d.stageName,
    removalPolicy: input.removalPolicy ?? d.removalPolicy,
    listShards: input.listShards ?? d.listShards,
    statsShards: input.statsShards ?? d.statsShards,
    dueShards: input.dueShards ?? d.dueShards,
    groupMaxDepth: input.groupMaxDepth ?? d.groupMaxDepth,
    eventRetentionDays: input.eventRetentionDays ?? d.eventRetentionDays,
    jobRetentionDays: input.jobRetentionDays ?? d.jobRetentionDays,
    certificateIntakeConcurrency: input.certificateIntakeConcurrency ?? d.certificateIntakeConcurrency,
    indexedMetadataKeys: [...(input.indexedMetadataKeys ?? d.indexedMetadataKeys)],
    logRetentionDays: input.logRetentionDays ?? d.logRetentionDays,
    sweepRateMinutes: input.sweepRateMinutes ?? d.sweepRateMinutes,
    sweepWorkers: input.sweepWorkers ?? d.sweepWorkers,
    jobWorkers: input.jobWorkers ?? d.jobWorkers,
    renewalDefaults: input.renewalDefaults
      ? {
          preventiveDelta: input.renewalDefaults.preventiveDelta ?? d.renewalDefaults.preventiveDelta,
          criticalDelta: input.renewalDefaults.criticalDelta ?? d.renewalDefaults.criticalDelta,
        }
      : d.renewalDefaults,
    eventSource: input.eventSource ?? d.eventSource,
    ...(input.lamassuEvents === undefined ? {} : { lamassuEvents: input.lamassuEvents }),
    ...(input.caApiUrl === undefined ? {} : { caApiUrl: input.caApiUrl }),
    ...(input.caApiAuthHeaderSecretArn === undefined
      ? {}
      : { caApiAuthHeaderSecretArn: input.caApiAuthHeaderSecretArn }),
    ...(input.caApiAuthHeaderSecretKmsKeyArn === undefined
      ? {}
      : { caApiAuthHeaderSecretKmsKeyArn: input.caApiAuthHeaderSecretKmsKeyArn }),
    certificateSources: input.certificateSources ? [...(input.certificateSources as string[])] : d.certificateSources,
    unknownSerialRetrySeconds: input.unknownSerialRetrySeconds ?? d.unknownSerialRetrySeconds,
    tracing: input.tracing ?? d.tracing,
    sourceMaps: input.sourceMaps ?? d.sourceMaps,
    iotSync: input.iotSync
      ? {
          enabled: input.iotSync.enabled ?? d.iotSync.enabled,
          metadataKeys: [...((input.iotSync.metadataKeys as string[] | undefined) ?? [])],
          ...(iotStatus === undefined ? {} : { decommissionCertificateStatus: iotStatus }),
          ...(input.iotSync.apiRates === undefined ? {} : { apiRates: { ...input.iotSync.apiRates } }),
          ...(input.iotSync.certificateRegistration === undefined
            ? {}
            : { certificateRegistration: input.iotSync.certificateRegistration }),
          ...(input.iotSync.identityActions === undefined ? {} : { identityActions: input.iotSync.identityActions }),
          ...(input.iotSync.shadowName === undefined ? {} : { shadowName: input.iotSync.shadowName }),
          ...(input.iotSync.dataEndpoint === undefined ? {} : { dataEndpoint: input.iotSync.dataEndpoint }),
          ...(input.iotSync.presence === undefined ? {} : { presence: input.iotSync.presence }),
          ...(input.iotSync.notSeenDays === undefined ? {} : { notSeenDays: input.iotSync.notSeenDays }),
          ...(input.iotSync.notSeenAlarmAbove === undefined
            ? {}
            : { notSeenAlarmAbove: input.iotSync.notSeenAlarmAbove }),
        }
      : d.iotSync,
    auth,
    throttle: {
      rateLimit: input.throttle?.rateLimit ?? d.throttle.rateLimit,
      burstLimit: input.throttle?.burstLimit ?? d.throttle.burstLimit,
    },
    dashboard: dashboardOf(input.dashboard, auth),
    ...(alarms === undefined
      ? {}
      : { alarms: alarms.topicArn !== undefined ? { topicArn: alarms.topicArn } : { email: alarms.email! } }),
    ...(input.cors ? { cors: { allowedOrigins: [...(input.cors.allowedOrigins as string[])] } } : {}),
  };
}

function objectAt(value: unknown, setting: string): Raw {
  if (!isObject(value)) throw new DeploymentConfigError(setting, `must be an object (got ${describe(value)})`);
  return value;
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
