/**
 * The HTTP routes: one Lambda handler file per route. The CDK API and the local service are both
 * built from this table, so they cannot disagree.
 */
export const SCOPES = ['devices:read', 'devices:write', 'groups:write', 'dms:write'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The scope a token must carry for a route: the route's scope after the deployment's prefix
 * (`auth.scopePrefix`, local AUTH_SCOPE_PREFIX). Cognito names resource-server scopes
 * `<identifier>/<name>`, so a Cognito deployment sets the prefix `<identifier>/`.
 */
export const requiredScope = (scope: Scope, prefix = ''): string => `${prefix}${scope}`;

/** The scopes the web dashboard asks for at sign-in by default: OpenID and every route scope. */
export const defaultDashboardScope = (prefix = ''): string =>
  ['openid', ...SCOPES.map((s) => requiredScope(s, prefix))].join(' ');

/** What a route's function does to the table: least-privilege grants follow from it. */
export type TableAccess = 'none' | 'read' | 'write';

/** A DynamoDB item action (TransactWriteItems is authorised per item as Put/Update/Delete/ConditionCheckItem). */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem';

/*
 * The exact table actions of the write routes, read from their use cases and adapters (a write route
 * is granted these instead of the whole write level):
 * - a device item, its entries, events, version items, outbox records: PutItem; counters and an
 *   existing device: UpdateItem; entries that go away (tags, metadata keys, legacy tag entries): DeleteItem;
 * - a change computed with the DMS renewal policy (bind, revoke, decommission) commits only if the
 *   policy is unchanged: ConditionCheckItem on the policy item.
 */
/** Registration: one transaction of Puts (device, entries, event, outbox) and counter Updates; nothing read. */
const REGISTER: readonly TableAction[] = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** Read-modify-write of a device without its policy (shadow patch, metadata). */
const DEVICE_UPDATE: readonly TableAction[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];
/** Read-modify-write of a device under its DMS policy (reads the active slot version and the policy by key). */
const DEVICE_POLICY_UPDATE: readonly TableAction[] = [...DEVICE_UPDATE, 'dynamodb:ConditionCheckItem'];
/** Hard delete: the device's partition is queried, deleted in version-checked transactions, the history given a TTL. */
const DEVICE_PURGE: readonly TableAction[] = [...DEVICE_POLICY_UPDATE, 'dynamodb:Query'];
/** A DMS policy: read by key, then the policy, its sweep job and the outbox record put in one transaction. */
const DMS_PUT: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:PutItem'];
/** A new group: the hierarchy snapshot (GetItem + Query of the groups partition) for a child, then Puts. */
const GROUP_CREATE: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'];
/**
 * A replaced group: ancestors by BatchGetItem (or the snapshot when it moves); a rename releases the old name
 * (DeleteItem).
 */
const GROUP_REPLACE: readonly TableAction[] = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
];
/** A deleted group (or subtree): the snapshot, then Deletes of groups and names, the hierarchy and outbox Puts. */
const GROUP_DELETE: readonly TableAction[] = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
];

/** The posture policy: read by key, then the policy and its re-evaluation job put in one transaction. */
const POSTURE_PUT: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:PutItem'];
/**
 * A new job: the job, its unfinished marker and its outbox record put in one transaction (and its first task
 * sent); a finding selection first reads, by key, whether the findings have been assessed.
 */
const JOB_CREATE: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:PutItem'];
/** A cancel: the job read by key, then replaced (version-checked), its unfinished marker deleted, its outbox put. */
const JOB_CANCEL: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'];
/** A new import: its record put, and with the file as the body, started (record updated) and viewed (Query). */
const IMPORT_CREATE: readonly TableAction[] = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];
/** An import started or resumed: its record read and updated, then viewed (Query of its report). */
const IMPORT_START: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];

const LAMASSU_HANDLER = 'lamassu/';

/**
 * A route handler's file under functions/, without `.ts`, exporting `handler`: the Lamassu edge keeps its
 * handlers beside the rest of that edge (functions/lamassu/handlers/), the others are functions/handlers/http/.
 */
export const handlerFile = (handler: string): string =>
  handler.startsWith(LAMASSU_HANDLER)
    ? `lamassu/handlers/${handler.slice(LAMASSU_HANDLER.length)}`
    : `handlers/http/${handler}`;

export interface HttpRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway route syntax, e.g. `/v2/devices/{id}`. */
  path: string;
  /** The route's handler, which names its function: a file (without .ts) located by {@link handlerFile}. */
  handler: string;
  /** The JWT scope the route's authorizer requires; null only for Lamassu's health check, which has no authorizer. */
  scope: Scope | null;
  table: TableAccess;
  /** The exact table actions, when narrower than `table` (every write route has them). */
  actions?: readonly TableAction[];
  /**
   * The route sends background tasks (docs/architecture.md, Background jobs): its function gets the
   * queue URLs and SendMessage on the jobs queue only.
   */
  sendsTasks?: true;
  /** AWS IoT actions the route's function calls (granted on `*`: these take no resource in IAM). */
  iot?: readonly IotAction[];
}

/** AWS IoT actions a route may call: CA registration (docs/iot-provisioning.md). */
export type IotAction = 'iot:GetRegistrationCode' | 'iot:RegisterCACertificate';

/** Lamassu's device manager routes (backend/pkg/routes/devmanager.go), under its gateway prefix. */
export const LAMASSU_PREFIX = '/api/devmanager/v1';

const LAMASSU_ROUTES: readonly HttpRoute[] = (
  [
    ['GET', '/stats', 'get-stats', 'devices:read', 'read'],
    ['GET', '/devices', 'list-devices', 'devices:read', 'read'],
    ['POST', '/devices', 'create-device', 'devices:write', 'write', REGISTER],
    ['GET', '/devices/{id}', 'get-device', 'devices:read', 'read'],
    ['DELETE', '/devices/{id}', 'delete-device', 'devices:write', 'write', DEVICE_PURGE],
    ['PUT', '/devices/{id}/idslot', 'bind-identity', 'devices:write', 'write', DEVICE_POLICY_UPDATE],
    ['PUT', '/devices/{id}/metadata', 'update-metadata', 'devices:write', 'write', DEVICE_UPDATE],
    ['PATCH', '/devices/{id}/metadata', 'patch-metadata', 'devices:write', 'write', DEVICE_UPDATE],
    ['DELETE', '/devices/{id}/decommission', 'decommission-device', 'devices:write', 'write', DEVICE_POLICY_UPDATE],
    ['GET', '/devices/dms/{id}', 'list-dms-devices', 'devices:read', 'read'],
    ['POST', '/device-groups', 'create-group', 'groups:write', 'write', GROUP_CREATE],
    ['GET', '/device-groups', 'list-groups', 'devices:read', 'read'],
    ['GET', '/device-groups/{id}', 'get-group', 'devices:read', 'read'],
    ['PUT', '/device-groups/{id}', 'update-group', 'groups:write', 'write', GROUP_REPLACE],
    ['DELETE', '/device-groups/{id}', 'delete-group', 'groups:write', 'write', GROUP_DELETE],
    ['GET', '/device-groups/{id}/devices', 'list-group-devices', 'devices:read', 'read'],
    ['GET', '/device-groups/{id}/stats', 'group-stats', 'devices:read', 'read'],
  ] as const
).map(
  ([method, path, handler, scope, table, actions]: readonly [
    HttpRoute['method'],
    string,
    string,
    Scope,
    TableAccess,
    (readonly TableAction[])?,
  ]) => ({
    method,
    path: `${LAMASSU_PREFIX}${path}`,
    handler: `${LAMASSU_HANDLER}${handler}`,
    scope,
    table,
    ...(actions ? { actions } : {}),
  }),
);

export const HTTP_ROUTES: readonly HttpRoute[] = [
  {
    method: 'POST',
    path: '/v2/devices',
    handler: 'create-device',
    scope: 'devices:write',
    table: 'write',
    actions: REGISTER,
  },
  { method: 'GET', path: '/v2/devices', handler: 'list-devices', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/devices/{id}', handler: 'get-device', scope: 'devices:read', table: 'read' },
  {
    method: 'PATCH',
    path: '/v2/devices/{id}',
    handler: 'patch-device',
    scope: 'devices:write',
    table: 'write',
    actions: DEVICE_UPDATE,
  },
  {
    method: 'DELETE',
    path: '/v2/devices/{id}',
    handler: 'decommission-device',
    scope: 'devices:write',
    table: 'write',
    actions: DEVICE_POLICY_UPDATE,
  },
  {
    method: 'GET',
    path: '/v2/devices/{id}/events',
    handler: 'list-device-events',
    scope: 'devices:read',
    table: 'read',
  },
  {
    method: 'PUT',
    path: '/v2/devices/{id}/idslot',
    handler: 'bind-identity',
    scope: 'devices:write',
    table: 'write',
    actions: DEVICE_POLICY_UPDATE,
  },
  {
    method: 'POST',
    path: '/v2/devices/{id}/idslot/revoke',
    handler: 'revoke-identity',
    scope: 'devices:write',
    table: 'write',
    actions: DEVICE_POLICY_UPDATE,
  },
  {
    method: 'PUT',
    path: '/v2/devices/{id}/slots/{slot}',
    handler: 'bind-slot',
    scope: 'devices:write',
    table: 'write',
    actions: DEVICE_POLICY_UPDATE,
  },
  {
    method: 'POST',
    path: '/v2/devices/{id}/slots/{slot}/revoke',
    handler: 'revoke-slot',
    scope: 'devices:write',
    table: 'write',
    actions: DEVICE_POLICY_UPDATE,
  },
  {
    method: 'GET',
    path: '/v2/devices/{id}/slots/{slot}/versions/{n}',
    handler: 'get-slot-version',
    scope: 'devices:read',
    table: 'read',
  },
  { method: 'GET', path: '/v2/stats/devices', handler: 'device-stats', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/stats/metadata/{key}', handler: 'metadata-stats', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/stats/expirations', handler: 'expiration-stats', scope: 'devices:read', table: 'read' },
  // The certificate inventory (docs/api.md, Certificate inventory).
  {
    method: 'GET',
    path: '/v2/stats/certificates',
    handler: 'certificate-stats',
    scope: 'devices:read',
    table: 'read',
  },
  // Devices connected and disconnected at their last AWS IoT presence event (docs/events.md, Presence).
  {
    method: 'GET',
    path: '/v2/stats/connectivity',
    handler: 'connectivity-stats',
    scope: 'devices:read',
    table: 'read',
  },
  { method: 'GET', path: '/v2/dms', handler: 'list-dms', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/dms/{id}', handler: 'get-dms', scope: 'devices:read', table: 'read' },
  { method: 'PUT', path: '/v2/dms/{id}', handler: 'put-dms', scope: 'dms:write', table: 'write', actions: DMS_PUT },
  { method: 'GET', path: '/v2/openapi.json', handler: 'openapi', scope: 'devices:read', table: 'none' },
  // CA registration in AWS IoT (docs/iot-provisioning.md): the registration code, then the CA.
  {
    method: 'GET',
    path: '/v2/iot/registration-code',
    handler: 'get-iot-registration-code',
    scope: 'dms:write',
    table: 'none',
    iot: ['iot:GetRegistrationCode'],
  },
  {
    method: 'POST',
    path: '/v2/iot/ca-certificates',
    handler: 'register-iot-ca',
    scope: 'dms:write',
    table: 'none',
    iot: ['iot:RegisterCACertificate'],
  },
  {
    method: 'POST',
    path: '/v2/device-groups',
    handler: 'create-group',
    scope: 'groups:write',
    table: 'write',
    actions: GROUP_CREATE,
  },
  { method: 'GET', path: '/v2/device-groups', handler: 'list-groups', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/device-groups/{id}', handler: 'get-group', scope: 'devices:read', table: 'read' },
  {
    method: 'PUT',
    path: '/v2/device-groups/{id}',
    handler: 'update-group',
    scope: 'groups:write',
    table: 'write',
    actions: GROUP_REPLACE,
  },
  {
    method: 'DELETE',
    path: '/v2/device-groups/{id}',
    handler: 'delete-group',
    scope: 'groups:write',
    table: 'write',
    actions: GROUP_DELETE,
  },
  {
    method: 'GET',
    path: '/v2/device-groups/{id}/devices',
    handler: 'list-group-devices',
    scope: 'devices:read',
    table: 'read',
  },
  { method: 'GET', path: '/v2/device-groups/{id}/stats', handler: 'group-stats', scope: 'devices:read', table: 'read' },
  // Fleet posture (docs/api.md, Fleet posture): the policy (changed with the DMS policies' scope) and the findings.
  {
    method: 'GET',
    path: '/v2/posture/policy',
    handler: 'get-posture-policy',
    scope: 'devices:read',
    table: 'read',
  },
  {
    method: 'PUT',
    path: '/v2/posture/policy',
    handler: 'put-posture-policy',
    scope: 'dms:write',
    table: 'write',
    actions: POSTURE_PUT,
  },
  { method: 'GET', path: '/v2/findings', handler: 'finding-counts', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/findings/{check}', handler: 'list-findings', scope: 'devices:read', table: 'read' },
  // Remediation jobs (docs/api.md, Remediation jobs): run by the job worker; the routes create, read and cancel.
  {
    method: 'POST',
    path: '/v2/jobs',
    handler: 'create-job',
    scope: 'devices:write',
    table: 'write',
    actions: JOB_CREATE,
    sendsTasks: true,
  },
  { method: 'GET', path: '/v2/jobs', handler: 'list-jobs', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/jobs/{id}', handler: 'get-job', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/jobs/{id}/devices', handler: 'list-job-devices', scope: 'devices:read', table: 'read' },
  {
    method: 'POST',
    path: '/v2/jobs/{id}/cancel',
    handler: 'cancel-job',
    scope: 'devices:write',
    table: 'write',
    actions: JOB_CANCEL,
  },
  // Server-side import (docs/api.md, Server-side import): the file in the stack's bucket, rows on the job worker.
  {
    method: 'POST',
    path: '/v2/imports',
    handler: 'create-import',
    scope: 'devices:write',
    table: 'write',
    actions: IMPORT_CREATE,
    sendsTasks: true,
  },
  { method: 'GET', path: '/v2/imports/{id}', handler: 'get-import', scope: 'devices:read', table: 'read' },
  {
    method: 'POST',
    path: '/v2/imports/{id}/start',
    handler: 'start-import',
    scope: 'devices:write',
    table: 'write',
    actions: IMPORT_START,
    sendsTasks: true,
  },
  // The Lamassu-compatible edge (docs/lamassu-compatibility.md): same use cases, Lamassu's wire format.
  ...LAMASSU_ROUTES,
  // Lamassu serves its health check without auth; its dashboard reads it (docs/lamassu-compatibility.md).
  { method: 'GET', path: '/api/devmanager/health', handler: 'lamassu/health', scope: null, table: 'none' },
];
