/**
 * The OpenAPI 3.1 document, generated from the zod schemas that validate requests and from the route
 * table, so neither can drift from the code. Choices the contract leaves open are written here.
 */
import { z } from 'zod';
import { DEVICE_STATUSES } from '../domain/device';
import { DATE_OPS, METADATA_OPS, STATUS_OPS, STRING_OPS, TAG_OPS } from '../domain/filters';
import { INDEXED_FILTERS, MAX_PAGE_SIZE, SORT_FIELDS } from '../domain/query';
import { createDeviceSchema, deviceEventSchema, deviceSchema, errorSchema, listOf, statsSchema } from '../domain/schemas';
import { HTTP_ROUTES } from '../handlers/http/routes';
import { MAX_BODY_BYTES } from './http';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });

const deviceList = listOf(deviceSchema, 'DeviceList');
const eventList = listOf(deviceEventSchema, 'DeviceEventList');

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,128}$' } };
const ifMatch = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'ETag of the version the change is based on; a mismatch is 412 and changes nothing.' };
const paging = [
  { name: 'page_size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 25 } },
  { name: 'bookmark', in: 'query', schema: { type: 'string' }, description: 'Opaque `next` of the previous page; only valid with the same filters and sort. Tampered bookmarks are 400.' },
];
const filterParam = {
  name: 'filter',
  in: 'query',
  style: 'form',
  explode: true,
  schema: { type: 'array', items: { type: 'string' } },
  description: [
    '`field[op]value`, repeatable, ANDed; `in`/`nin` take comma-separated values.',
    `String fields id, dms_owner, icon: ${STRING_OPS.join(' ')}. status: ${STATUS_OPS.join(' ')} (values ${DEVICE_STATUSES.join(', ')}).`,
    `tags: ${TAG_OPS.join(' ')}. creation_timestamp, identity.expiration_date: ${DATE_OPS.join(' ')} (RFC 3339).`,
    `metadata.<dotted.path>: ${METADATA_OPS.join(' ')}; the value is read as JSON when it parses (numbers compare as numbers), else as a string; exists takes true|false.`,
    `Indexed entry points (no full read of the fleet): ${INDEXED_FILTERS.join(', ')}, chosen in that order; other filters are applied to what that entry point reads.`,
    'A list request reads at most LIST_READ_BUDGET items (default 2000); when selective non-indexed filters exhaust it, the page may be shorter than page_size with a non-empty `next`.',
  ].join(' '),
};
const sorting = [
  { name: 'sort_by', in: 'query', schema: { type: 'string', enum: [...SORT_FIELDS], default: 'creation_timestamp' }, description: 'Devices without an identity sort after all others by identity.expiration_date (like NULLS LAST in ascending order).' },
  { name: 'sort_mode', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
];
const common = {
  '400': error('Invalid input: `details` names each offending field'),
  '401': error('Missing or invalid credentials'),
  '403': error('Credentials lack the scope of this route'),
};
const deviceResponse = (description: string) => ({ description, headers: { ETag: { schema: { type: 'string' } } }, ...json(ref('Device')) });

type Operation = Record<string, unknown>;

const OPERATIONS: Record<string, Operation> = {
  'POST /v2/devices': {
    summary: 'Register a device (event CREATED, status NO_IDENTITY)',
    requestBody: { required: true, ...json(ref('CreateDevice')) },
    responses: { '201': deviceResponse('Registered'), '409': error('A device with this id exists'), '413': error(`Body over ${MAX_BODY_BYTES} bytes`), '415': error('Content type is not application/json') },
  },
  'GET /v2/devices': {
    summary: 'List devices',
    parameters: [filterParam, ...sorting, ...paging],
    responses: { '200': { description: 'A page', ...json(ref('DeviceList')) } },
  },
  'GET /v2/devices/{id}': { summary: 'Read a device', parameters: [idParam], responses: { '200': deviceResponse('The device'), '404': error('Unknown device') } },
  'PATCH /v2/devices/{id}': {
    summary: 'Change tags, metadata, icon, icon_color (event SHADOW-UPDATED)',
    description:
      'RFC 7396 merge patch (`application/merge-patch+json`, `null` removes a metadata key; tags, icon and icon_color cannot be removed) or RFC 6902 JSON patch (`application/json-patch+json`, paths under /tags, /metadata, /icon, /icon_color only). A patch that changes nothing returns the device unchanged: no event, no new version. Without If-Match, a concurrent change is merged by re-applying the patch to the fresh device.',
    parameters: [idParam, ifMatch],
    requestBody: { required: true, content: { 'application/merge-patch+json': { schema: { type: 'object' } }, 'application/json-patch+json': { schema: { type: 'array', items: { type: 'object' } } } } },
    responses: { '200': deviceResponse('The patched device'), '404': error('Unknown device'), '412': error('If-Match does not match'), '413': error('Body too large'), '415': error('Unsupported content type') },
  },
  'DELETE /v2/devices/{id}': {
    summary: 'Decommission a device (terminal; idempotent; data kept for audit)',
    description: 'Sets status DECOMMISSIONED with events DECOMMISSIONED and STATUS-UPDATED. Decommissioning a decommissioned device returns it unchanged.',
    parameters: [idParam, ifMatch],
    responses: { '200': deviceResponse('The decommissioned device'), '404': error('Unknown device'), '412': error('If-Match does not match') },
  },
  'GET /v2/devices/{id}/events': {
    summary: "A device's full event history, newest first",
    parameters: [idParam, ...paging],
    responses: { '200': { description: 'A page of events', ...json(ref('DeviceEventList')) }, '404': error('Unknown device') },
  },
  'GET /v2/stats/devices': {
    summary: 'Device statistics',
    description: 'Without filters, or with only dms_owner[eq], read from counters kept by every write (constant cost). Other filters count the devices read through the best indexed entry point. `status` filters are 400.',
    parameters: [filterParam],
    responses: { '200': { description: 'Counts', ...json(ref('DeviceStats')) } },
  },
  'GET /v2/openapi.json': { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', ...json({ type: 'object' }) } } },
};

function componentSchemas(): Record<string, unknown> {
  // Referencing the schemas registers them; the registry export turns them into components.
  void [createDeviceSchema, deviceSchema, deviceEventSchema, errorSchema, statsSchema, deviceList, eventList];
  const { schemas } = z.toJSONSchema(z.globalRegistry, { uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of HTTP_ROUTES) {
    const op = OPERATIONS[`${route.method} ${route.path}`];
    if (!op) throw new Error(`route ${route.method} ${route.path} has no OpenAPI operation`);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.handler.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
      security: [{ jwt: [route.scope] }],
      ...op,
      responses: { ...common, ...(op.responses as object), '500': error('Internal error (no details)') },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'device-manager',
      version: '2.0.0',
      description:
        'Device lifecycle manager. Errors are {err, code, details?}. Every device has an integer `version`, sent as ETag; writes accept If-Match. Lists return {next, list}; next is "" on the last page. Timestamps are RFC 3339 UTC with milliseconds.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Scopes devices:read, devices:write, groups:write, dms:write.' } },
    },
  };
}
