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
  { method: 'GET', path: '/v2/stats/devices', handler: 'device-stats', scope: 'devices:read', table: 'read' },
  { method: 'GET', path: '/v2/openapi.json', handler: 'openapi', scope: 'devices:read', table: 'none' },
];
