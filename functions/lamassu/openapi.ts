/**
 * The Lamassu-compatible edge in the OpenAPI document: one operation per LAMASSU route (see
 * docs/lamassu-compatibility.md). Its wire model is Lamassu's, so its schemas are written here
 * rather than derived from our zod schemas.
 */
import { DEVICE_STATUSES, SLOT_STATUSES } from '../domain/device';
import { MAX_PAGE_SIZE } from '../domain/query';
import { ICON_COLOR_PATTERN } from '../domain/schemas';
import { LAMASSU_PREFIX } from '../http/routes';
import { JSONPATH_MAX_NODES, JSONPATH_MAX_STEPS, MAX_JSONPATH_LENGTH } from './jsonpath';
import { filterQueryParam } from '../openapi/openapi-parts';
import { LAMASSU_ERRORS } from './model';

type Operation = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const lamassuError = (description: string, err?: string) => ({
  description: err ? `${description}: \`{"err": "${err}"}\`` : description,
  ...json(ref('Error')),
});
const device = (description: string) => ({
  description,
  headers: { ETag: { schema: { type: 'string' } } },
  ...json(ref('LamassuDevice')),
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const tag = ['Lamassu compatibility (/api/devmanager/v1)'];

const events = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { type: { type: 'string' }, description: { type: 'string' } } },
  description: 'Keyed by RFC 3339 timestamp.',
};
const slot = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: [...SLOT_STATUSES] },
    active_version: { type: 'integer' },
    type: { type: 'string' },
    versions: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'version → secret; for x509 the serial in whole bytes of lowercase hex (`0a3f`), as Lamassu writes it.',
    },
    expiration_date: { type: 'string', format: 'date-time' },
    events,
  },
};

export const LAMASSU_SCHEMAS: Record<string, unknown> = {
  LamassuSlot: slot,
  LamassuDevice: {
    type: 'object',
    description: "Lamassu's models.Device (no `version` field: the version is the ETag).",
    properties: {
      id: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      status: { type: 'string', enum: [...DEVICE_STATUSES] },
      icon: { type: 'string' },
      icon_color: { type: 'string', description: 'As registered: a hex colour or a `<colour>-<background>` pair.' },
      creation_timestamp: { type: 'string', format: 'date-time' },
      metadata: { type: 'object' },
      dms_owner: { type: 'string' },
      identity: ref('LamassuSlot'),
      slots: { type: 'object', additionalProperties: ref('LamassuSlot') },
      events,
    },
  },
  LamassuDeviceList: {
    type: 'object',
    properties: { next: { type: 'string' }, list: { type: 'array', items: ref('LamassuDevice') } },
  },
  LamassuCreateDevice: {
    type: 'object',
    required: ['id', 'dms_id'],
    description:
      'resources.CreateDeviceBody. `alias` is accepted and not stored; ' +
      '`null` tags/metadata are empty; `""` icon/icon_color take ' +
      'the defaults (Lamassu itself refuses an empty icon_color); ' +
      'unknown fields are ignored. `icon_color` is a hex colour ' +
      "or Lamassu's `<colour>-<background>` pair (`#0f67ff-#F0F8FF`), " +
      'stored and returned as given; anything else is 400.',
    properties: {
      id: { type: 'string' },
      alias: { type: ['string', 'null'] },
      tags: { type: ['array', 'null'], items: { type: 'string' } },
      metadata: { type: ['object', 'null'] },
      dms_id: { type: 'string' },
      icon: { type: ['string', 'null'] },
      icon_color: { type: ['string', 'null'], pattern: ICON_COLOR_PATTERN },
    },
  },
  LamassuSlotDocument: {
    type: 'object',
    required: ['active_version', 'versions'],
    description:
      "Lamassu's Slot[string] as its RA sends it. The serial of " +
      '`versions[active_version]` is bound as a new version of the ' +
      'identity slot (our version numbers are ours). `expiration_date` ' +
      'is required unless `certificate` (our extension: the PEM ' +
      'of that serial) is given. The latest event of type RENEWED ' +
      'marks a same-key renewal. The active serial already bound ' +
      'changes nothing, or revokes it when `status` is REVOKED. ' +
      'A serial bound without its `certificate` is never sent to ' +
      'the CA for revocation (ca.certificate.revoke.request) unless ' +
      'the CA itself reported it for this device: see docs/lamassu-compatibility.md.',
    properties: {
      ...slot.properties,
      versions: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
      certificate: { type: ['string', 'null'], description: 'PEM (optional)' },
    },
  },
  LamassuMetadataPatch: {
    type: 'object',
    properties: {
      patches: {
        type: ['array', 'null'],
        items: {
          type: 'object',
          required: ['op', 'path'],
          properties: {
            op: { type: 'string', enum: ['add', 'remove', 'replace'] },
            path: { type: 'string', description: 'JSON pointer inside metadata' },
            value: {},
          },
        },
      },
    },
  },
  LamassuCriterion: {
    type: 'object',
    properties: { field: { type: 'string' }, operand: { type: 'string' }, value: { type: 'string' } },
  },
  LamassuDeviceGroup: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      parent_id: { type: 'string', description: 'Omitted for a root group.' },
      criteria: { type: 'array', items: ref('LamassuCriterion') },
      inherited_criteria: { type: 'array', items: ref('LamassuCriterion') },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  },
  LamassuDeviceGroupBody: {
    type: 'object',
    required: ['name'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      parent_id: { type: ['string', 'null'] },
      criteria: { type: ['array', 'null'], items: ref('LamassuCriterion') },
    },
  },
};

const query = [
  filterQueryParam(
    [
      "Lamassu's `field[operand]value`. Fields id, dms_owner (string: " +
        'eq/equal, eq_ic/equal_ignorecase, ne/notequal, ne_ic, ct/contains, ' +
        'ct_ic/contains_ignorecase, nc/notcontains, nc_ic, in, in_ic, ' +
        'nin, nin_ic),',
      'creation_timestamp (bf/before, eq/equal, af/after), status ' +
        '(eq/equal, ne/notequal, in), tags (ct/contains, ct_ic/contains_ignorecase),',
      `metadata and identity_slot (jsonpath: an RFC 9535 JSONPath ` +
        `of at most ${MAX_JSONPATH_LENGTH} characters without match() ` +
        `and search() (400: regular expressions are not run); a device ` +
        `matches when it selects a value, or for \`<path> <op> <JSON ` +
        `literal>\` when a selected value satisfies it; applied to ` +
        `what the other filters read, within the read budget; one ` +
        `request's JSONPath evaluation visits at most ${JSONPATH_MAX_STEPS} ` +
        `nodes and holds at most ${JSONPATH_MAX_NODES} in one selection ` +
        `within REQUEST_TIME_BUDGET_MS, else 422 QUERY_TOO_BROAD; ` +
        `a page holds at most LIST_BYTE_BUDGET bytes of devices, each ` +
        `weighing 4,096 more than its text, and ` +
        `may end early with a \`next\`).`,
      'Unknown fields and malformed filters are ignored as Lamassu does; an unknown operand of a known field is 400.',
    ].join(' '),
  ),
  {
    name: 'sort_by',
    in: 'query',
    schema: { type: 'string' },
    description:
      'creation_timestamp (default), id, identity.expiration_date ' +
      '(indexed); dms_owner, status and metadata[jsonpath]$.simple.path ' +
      'sort in memory, at most LIST_READ_BUDGET matching devices, ' +
      'else 422 QUERY_TOO_BROAD. Other values are ignored.',
  },
  {
    name: 'sort_mode',
    in: 'query',
    schema: { type: 'string', enum: ['asc', 'desc'] },
    description: 'Anything but desc is asc.',
  },
  {
    name: 'page_size',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 25 },
    description: 'Invalid values are ignored (25); larger ones are capped.',
  },
  {
    name: 'bookmark',
    in: 'query',
    schema: { type: 'string' },
    description:
      "The previous page's `next`. It carries the whole query (signed): " +
      "every other parameter is then ignored, as Lamassu's SDK sends " +
      'only bookmark and sort_mode after page 1. Tampered: 400.',
  },
];
const list = { '200': { description: 'A page', ...json(ref('LamassuDeviceList')) } };
const stats = { '200': { description: 'Counts', ...json(ref('DeviceStats')) } };
const group = (description: string) => ({ description, ...json(ref('LamassuDeviceGroup')) });

const OPS: Record<string, Operation> = {
  'GET /stats': {
    summary: 'Device statistics (Lamassu GetDevicesStats)',
    parameters: query.slice(0, 1),
    responses: stats,
  },
  'GET /devices': { summary: 'List devices (Lamassu GetDevices)', parameters: query, responses: list },
  'POST /devices': {
    summary: 'Register a device (Lamassu CreateDevice; event device.create)',
    requestBody: { required: true, ...json(ref('LamassuCreateDevice')) },
    responses: { '201': device('Registered'), '409': lamassuError('Duplicate id', LAMASSU_ERRORS.deviceAlreadyExists) },
  },
  'GET /devices/{id}': {
    summary: 'Read a device (Lamassu GetDeviceByID)',
    description:
      'An unknown device is **400** `device not found`, the answer ' +
      "Lamassu's SDK maps to ErrDeviceNotFound (its RA then creates " +
      'the device just in time).',
    parameters: [idParam],
    responses: { '200': device('The device'), '400': lamassuError('Unknown device', LAMASSU_ERRORS.deviceNotFound) },
  },
  'DELETE /devices/{id}': {
    summary: 'Hard delete of a DECOMMISSIONED device (Lamassu DeleteDevice; event device.delete)',
    description:
      'The device leaves lists and statistics; its history (events, ' +
      'slot versions) is kept for audit for 400 days (DynamoDB TTL) ' +
      'and is not served by the API once the device is gone.',
    parameters: [idParam],
    responses: {
      '204': { description: 'Deleted' },
      '404': lamassuError('Unknown device', LAMASSU_ERRORS.deviceNotFound),
      '422': lamassuError('Not decommissioned', LAMASSU_ERRORS.deviceInvalidStatus),
    },
  },
  'PUT /devices/{id}/idslot': {
    summary:
      "Bind the identity from Lamassu's slot document (Lamassu UpdateDeviceIdentitySlot; event device.identity.update)",
    parameters: [idParam],
    requestBody: { required: true, ...json(ref('LamassuSlotDocument')) },
    responses: {
      '200': device('The device'),
      '404': lamassuError('Unknown device', LAMASSU_ERRORS.deviceNotFound),
      '422': lamassuError('Decommissioned device or expired certificate', LAMASSU_ERRORS.deviceInvalidStatus),
    },
  },
  'PUT /devices/{id}/metadata': {
    summary: 'Patch the metadata (Lamassu UpdateDeviceMetadata; event device.update)',
    description:
      'JSON patch operations add, remove, replace with paths inside ' +
      'metadata; an empty or null `patches` changes nothing.',
    parameters: [idParam],
    requestBody: { required: true, ...json(ref('LamassuMetadataPatch')) },
    responses: { '200': device('The device'), '404': lamassuError('Unknown device', LAMASSU_ERRORS.deviceNotFound) },
  },
  'DELETE /devices/{id}/decommission': {
    summary: 'Decommission (Lamassu UpdateDeviceStatus to DECOMMISSIONED; idempotent; revokes the active identity)',
    parameters: [idParam],
    responses: {
      '200': device('The decommissioned device'),
      '404': lamassuError('Unknown device', LAMASSU_ERRORS.deviceNotFound),
    },
  },
  'GET /devices/dms/{id}': {
    summary: 'Devices of a DMS (Lamassu GetDeviceByDMS)',
    parameters: [idParam, ...query],
    responses: list,
  },
  'POST /device-groups': {
    summary: 'Create a device group (Lamassu CreateDeviceGroup)',
    description:
      'Criteria take Lamassu operand names, long or short; tags ' +
      'criteria are answered with `contains`/`contains_ignorecase` ' +
      'as Lamassu formats them. JSONPath criteria are not supported ' +
      '(400).',
    requestBody: { required: true, ...json(ref('LamassuDeviceGroupBody')) },
    responses: {
      '201': group('Created'),
      '404': lamassuError('Unknown parent', LAMASSU_ERRORS.groupNotFound),
      '409': lamassuError('Duplicate id or name', LAMASSU_ERRORS.groupAlreadyExists),
    },
  },
  'GET /device-groups': {
    summary: 'List device groups (Lamassu GetDeviceGroups)',
    parameters: query.slice(3),
    responses: {
      '200': {
        description: "`{next, next_bookmark, list}` (Lamassu's controller writes next_bookmark, its SDK reads next)",
        ...json({ type: 'object' }),
      },
    },
  },
  'GET /device-groups/{id}': {
    summary: 'Read a device group',
    parameters: [idParam],
    responses: { '200': group('The group'), '404': lamassuError('Unknown group', LAMASSU_ERRORS.groupNotFound) },
  },
  'PUT /device-groups/{id}': {
    summary: 'Replace a device group (Lamassu UpdateDeviceGroup)',
    parameters: [idParam],
    requestBody: { required: true, ...json(ref('LamassuDeviceGroupBody')) },
    responses: {
      '200': group('The group'),
      '404': lamassuError('Unknown group or parent', LAMASSU_ERRORS.groupNotFound),
      '400': lamassuError('Invalid input or a cycle', LAMASSU_ERRORS.groupCircularReference),
    },
  },
  'DELETE /device-groups/{id}': {
    summary: 'Delete a device group',
    parameters: [idParam],
    responses: {
      '204': { description: 'Deleted' },
      '404': lamassuError('Unknown group', LAMASSU_ERRORS.groupNotFound),
    },
  },
  'GET /device-groups/{id}/devices': {
    summary: 'Members of a group (Lamassu GetDevicesByGroup)',
    parameters: [idParam, ...query],
    responses: { ...list, '404': lamassuError('Unknown group', LAMASSU_ERRORS.groupNotFound) },
  },
  'GET /device-groups/{id}/stats': {
    summary: 'Statistics of the members (Lamassu GetDeviceGroupStats)',
    parameters: [idParam],
    responses: { ...stats, '404': lamassuError('Unknown group', LAMASSU_ERRORS.groupNotFound) },
  },
};

/** The operations keyed like the main document's: `METHOD /api/devmanager/v1/...`. */
export const LAMASSU_OPERATIONS: Record<string, Operation> = Object.fromEntries(
  Object.entries(OPS).map(([key, op]) => {
    const [method, path] = key.split(' ') as [string, string];
    return [`${method} ${LAMASSU_PREFIX}${path}`, { tags: tag, ...op }];
  }),
);
LAMASSU_OPERATIONS['GET /api/devmanager/health'] = {
  tags: tag,
  summary: "Lamassu's health check (no auth)",
  description:
    'As Lamassu serves `GET /health` behind its gateway: no authorizer ' +
    "(the route's only exception; an Authorization header is ignored), " +
    "no data access. `build` and `build_time` are empty (Lamassu's " +
    'dashboard then shows no build line).',
  responses: {
    '200': {
      description: 'The service answers',
      ...json({
        type: 'object',
        required: ['health', 'version', 'build', 'build_time'],
        properties: {
          health: { type: 'boolean', const: true },
          version: { type: 'string' },
          build: { type: 'string' },
          build_time: { type: 'string' },
        },
      }),
    },
  },
};
LAMASSU_OPERATIONS[`PATCH ${LAMASSU_PREFIX}/devices/{id}/metadata`] = {
  ...LAMASSU_OPERATIONS[`PUT ${LAMASSU_PREFIX}/devices/{id}/metadata`],
};
