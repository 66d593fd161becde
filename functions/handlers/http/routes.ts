/**
 * The HTTP routes: one Lambda handler file per route. The CDK API and the local service are both
 * built from this table, so they cannot disagree.
 */
export type Scope = 'devices:read' | 'devices:write' | 'groups:write' | 'dms:write';

/** What a route's function does to the table: least-privilege grants follow from it. */
export type TableAccess = 'none' | 'read' | 'write';

export interface HttpRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway route syntax, e.g. `/v2/devices/{id}`. */
  path: string;
  /** File name (without .ts) under functions/handlers/http/, exporting `handler`. */
  handler: string;
  /** The JWT scope the route's authorizer requires; null only for Lamassu's health check, which has no authorizer. */
  scope: Scope | null;
  table: TableAccess;
}

/** Lamassu's device manager routes (backend/pkg/routes/devmanager.go), under its gateway prefix. */
export const LAMASSU_PREFIX = '/api/devmanager/v1';

const LAMASSU_ROUTES: readonly HttpRoute[] = (
  [
    ['GET', '/stats', 'get-stats', 'devices:read', 'read'],
    ['GET', '/devices', 'list-devices', 'devices:read', 'read'],
    ['POST', '/devices', 'create-device', 'devices:write', 'write'],
    ['GET', '/devices/{id}', 'get-device', 'devices:read', 'read'],
    ['DELETE', '/devices/{id}', 'delete-device', 'devices:write', 'write'],
    ['PUT', '/devices/{id}/idslot', 'bind-identity', 'devices:write', 'write'],
    ['PUT', '/devices/{id}/metadata', 'update-metadata', 'devices:write', 'write'],
    ['PATCH', '/devices/{id}/metadata', 'patch-metadata', 'devices:write', 'write'],
    ['DELETE', '/devices/{id}/decommission', 'decommission-device', 'devices:write', 'write'],
    ['GET', '/devices/dms/{id}', 'list-dms-devices', 'devices:read', 'read'],
    ['POST', '/device-groups', 'create-group', 'groups:write', 'write'],
    ['GET', '/device-groups', 'list-groups', 'devices:read', 'read'],
    ['GET', '/device-groups/{id}', 'get-group', 'devices:read', 'read'],
    ['PUT', '/device-groups/{id}', 'update-group', 'groups:write', 'write'],
    ['DELETE', '/device-groups/{id}', 'delete-group', 'groups:write', 'write'],
    ['GET', '/device-groups/{id}/devices', 'list-group-devices', 'devices:read', 'read'],
    ['GET', '/device-groups/{id}/stats', 'group-stats', 'devices:read', 'read'],
  ] as const
).map(([method, path, handler, scope, table]) => ({ method, path: `${LAMASSU_PREFIX}${path}`, handler: `lamassu/${handler}`, scope, table }));

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: 'POST', path: '/v2/devices', handler: 'create-device', scope: 'devices:write', table: 'write' },
  { method: 'GET', path: '/v2/devices', handler: 'list-devices', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/devices/{id}', handler: 'get-device', scope: 'devices:read', table: 'read' },
  { method: 'PATCH', path: '/v2/devices/{id}', handler: 'patch-device', scope: 'devices:write', table: 'write' },
  { method: 'DELETE', path: '/v2/devices/{id}', handler: 'decommission-device', scope: 'devices:write', table: 'write' },
  { method: 'GET', path: '/v2/devices/{id}/events', handler: 'list-device-events', scope: 'devices:read', table: 'read' },
  { method: 'PUT', path: '/v2/devices/{id}/idslot', handler: 'bind-identity', scope: 'devices:write', table: 'write' },
  { method: 'POST', path: '/v2/devices/{id}/idslot/revoke', handler: 'revoke-identity', scope: 'devices:write', table: 'write' },
  { method: 'PUT', path: '/v2/devices/{id}/slots/{slot}', handler: 'bind-slot', scope: 'devices:write', table: 'write' },
  { method: 'POST', path: '/v2/devices/{id}/slots/{slot}/revoke', handler: 'revoke-slot', scope: 'devices:write', table: 'write' },
  { method: 'GET', path: '/v2/devices/{id}/slots/{slot}/versions/{n}', handler: 'get-slot-version', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/stats/devices', handler: 'device-stats', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/stats/metadata/{key}', handler: 'metadata-stats', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/stats/expirations', handler: 'expiration-stats', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/dms', handler: 'list-dms', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/dms/{id}', handler: 'get-dms', scope: 'devices:read', table: 'read' },
  { method: 'PUT', path: '/v2/dms/{id}', handler: 'put-dms', scope: 'dms:write', table: 'write' },
  { method: 'GET', path: '/v2/openapi.json', handler: 'openapi', scope: 'devices:read', table: 'none' },
  { method: 'POST', path: '/v2/device-groups', handler: 'create-group', scope: 'groups:write', table: 'write' },
  { method: 'GET', path: '/v2/device-groups', handler: 'list-groups', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/device-groups/{id}', handler: 'get-group', scope: 'devices:read', table: 'read' },
  { method: 'PUT', path: '/v2/device-groups/{id}', handler: 'update-group', scope: 'groups:write', table: 'write' },
  { method: 'DELETE', path: '/v2/device-groups/{id}', handler: 'delete-group', scope: 'groups:write', table: 'write' },
  { method: 'GET', path: '/v2/device-groups/{id}/devices', handler: 'list-group-devices', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/device-groups/{id}/stats', handler: 'group-stats', scope: 'devices:read', table: 'read' },
  // The Lamassu-compatible edge (docs/lamassu-compatibility.md): same use cases, Lamassu's wire format.
  ...LAMASSU_ROUTES,
  // Lamassu serves its health check without auth; its dashboard reads it (docs/lamassu-compatibility.md).
  { method: 'GET', path: '/api/devmanager/health', handler: 'lamassu/health', scope: null, table: 'none' },
];
