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
  scope: Scope;
  table: TableAccess;
}

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
];
