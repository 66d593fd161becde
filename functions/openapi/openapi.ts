/**
 * The OpenAPI 3.1 document, generated from the zod schemas that validate requests and from the route
 * table, so neither can drift from the code. Choices the contract leaves open are written here.
 */
import { globalRegistry, toJSONSchema } from '../domain/zod-mini';
import { DEVICE_STATUSES } from '../domain/device';
import { postureCheckNames } from '../domain/posture-checks';
import { CRYPTO_OPS, DATE_OPS, METADATA_OPS, STATUS_OPS, STRING_OPS, TAG_OPS } from '../domain/filters';
import { INDEXED_FILTERS, MAX_PAGE_SIZE, SORT_FIELDS } from '../domain/query';
import {
  deviceEventSchema,
  deviceGroupSchema,
  deviceSchema,
  errorSchema,
  listOf,
  policySchema,
  slotVersionSchema,
  statsSchema,
} from '../domain/resource-schemas';
import { createGroupSchema, replaceGroupSchema } from '../domain/group-schemas';
import { createDeviceSchema, putPolicySchema } from '../domain/schemas';
import { registerCaSchema } from '../domain/ca-registration-schema';
import { bindCertificateSchema, bindSlotSchema, revokeSchema } from '../domain/slot-schemas';
import { HTTP_ROUTES } from '../http/routes';
import { MAX_BODY_BYTES } from '../http/http';
import { EVENTS_DOCUMENT } from './openapi-events';
import { LAMASSU_OPERATIONS, LAMASSU_SCHEMAS } from '../lamassu/openapi';
import { filterQueryParam } from './openapi-parts';
import { JOB_OPERATIONS, JOB_SCHEMAS } from './openapi-jobs';
import { IMPORT_OPERATIONS } from './openapi-imports';
import { INLINE_SECRET_LIMIT, MAX_EXTRA_SLOTS } from '../domain/slots';

/** Statistics follow the table's stream (docs/adr/0005-counters-from-the-stream.md). */
const CONSISTENT_AS_OF = {
  type: 'string',
  format: 'date-time',
  description: 'Every change committed before this instant is counted (whole seconds).',
} as const;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });

const deviceList = listOf(deviceSchema, 'DeviceList');
const eventList = listOf(deviceEventSchema, 'DeviceEventList');

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,128}$' },
};
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'ETag of the version the change is based on; a mismatch is 412 and changes nothing.',
};
const paging = [
  { name: 'page_size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 25 } },
  {
    name: 'bookmark',
    in: 'query',
    schema: { type: 'string' },
    description:
      'Opaque `next` of the previous page; only valid with the same filters and sort. Tampered bookmarks are 400.',
  },
];
const filterParam = filterQueryParam(
  [
    '`field[op]value`, repeatable, ANDed; `in`/`nin` take comma-separated values.',
    `String fields id, dms_owner, icon: ${STRING_OPS.join(' ')}. status: ` +
      `${STATUS_OPS.join(' ')} (values ${DEVICE_STATUSES.join(', ')}).`,
    `tags: ${TAG_OPS.join(' ')}. creation_timestamp, identity.expiration_date: ${DATE_OPS.join(' ')} (RFC 3339).`,
    `metadata.<dotted.path>: ${METADATA_OPS.join(' ')}; the value ` +
      `is read as JSON when it parses (numbers compare as numbers), ` +
      `else as a string; exists takes true|false.`,
    'Device lists only, with AWS IoT presence events (setting iotSync.presence): connected[eq]true|false, ' +
      'always the entry point (other filters applied to the devices read); not with ' +
      'sort_by=identity.expiration_date.',
    `Indexed entry points (no full read of the fleet): ${INDEXED_FILTERS.join(', ')}, ` +
      `and metadata.<key>[eq|in] for each indexed metadata key (INDEXED_METADATA_KEYS; ` +
      `listed in x-indexed-metadata-keys; after id and tags, before ` +
      `dms_owner and status) once its back-fill is done, then identity.key[eq] and identity.issuer[eq] ` +
      `once the certificate inventory is back-filled; chosen in that ` +
      `order; other filters are applied to what that entry point reads.`,
    `identity.key, identity.signature, identity.issuer, identity.validity (the identity certificate ` +
      `in service, as GET /v2/stats/certificates counts it): ${CRYPTO_OPS.join(' ')}. ` +
      `The identity.key[eq] and identity.issuer[eq] entry points read the key and issuer pairs the ` +
      `inventory counters know: a pair new to the fleet is listed once the counters include it, as it is counted.`,
    'A list request reads at most LIST_READ_BUDGET items (default ' +
      '2000); when selective non-indexed filters exhaust it, the ' +
      'page may be shorter than page_size with a non-empty `next`. ' +
      'A page also ends early, with a `next`, when its devices would ' +
      'pass LIST_BYTE_BUDGET bytes (default 393,216), each device ' +
      'weighing its serialized bytes and 4,096 (what reading one ' +
      "costs beside its text): far under Lambda's 6 MB response " +
      'limit, and a page_size=1000 page costs a few default pages, ' +
      'not forty (a page of small devices holds about 90).',
  ].join(' '),
);
const sorting = [
  {
    name: 'sort_by',
    in: 'query',
    schema: { type: 'string', enum: [...SORT_FIELDS], default: 'creation_timestamp' },
    description:
      'Devices without an identity sort after all others by identity.expiration_date ' +
      '(like NULLS LAST in ascending order).',
  },
  { name: 'sort_mode', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
];
const common = {
  '400': error('Invalid input: `details` names each offending field'),
  '401': error('Missing or invalid credentials'),
  '403': error('Credentials lack the scope of this route'),
};
const deviceResponse = (description: string) => ({
  description,
  headers: { ETag: { schema: { type: 'string' } } },
  ...json(ref('Device')),
});

type Operation = Record<string, unknown>;

const groupIdParam = { ...idParam, description: 'Group id (device id rules).' };
const groupResponse = (description: string) => ({
  description,
  headers: { ETag: { schema: { type: 'string' } } },
  ...json(ref('DeviceGroup')),
});
const groupList = listOf(deviceGroupSchema, 'DeviceGroupList');
const groupChoices = [
  'Membership is dynamic: a device is a member when it matches ' +
    "the group's `criteria` AND every ancestor's (served as `inherited_criteria`, " +
    'root first).',
  'Criteria use the device filter fields and operators of `GET ' +
    '/v2/devices` (`{field, operand, value}`, value always a string); ' +
    'an unknown field or operator, or a value of the wrong type, ' +
    'is 400 with `details` naming `criteria[i]`.',
  '`parent_id` is null for a root group (never omitted). A missing ' +
    'parent is 404 PARENT_GROUP_NOT_FOUND; self-parenting or a ' +
    "parent among the group's descendants is 400 naming `parent_id`; " +
    'the hierarchy is at most GROUP_MAX_DEPTH levels deep (default ' +
    '10, a root being level 1), beyond that 400.',
  'Names are unique compared case-insensitively (Unicode NFKC, ' +
    "then lower case): 409 GROUP_NAME_TAKEN. Changing a group's " +
    "criteria changes its descendants' membership; only the changed " +
    'group gets an event.',
].join(' ');

const GROUP_OPERATIONS: Record<string, Operation> = {
  'POST /v2/device-groups': {
    summary: 'Create a device group (event device-group.create)',
    description: `Without \`id\` a UUID is generated. ${groupChoices}`,
    requestBody: { required: true, ...json(ref('CreateDeviceGroup')) },
    responses: {
      '201': groupResponse('Created'),
      '404': error('parent_id names no group (PARENT_GROUP_NOT_FOUND)'),
      '409': error('The id exists (GROUP_ALREADY_EXISTS) or the name is taken (GROUP_NAME_TAKEN)'),
      '413': error(`Body over ${MAX_BODY_BYTES} bytes`),
      '415': error('Content type is not application/json'),
    },
  },
  'GET /v2/device-groups': {
    summary: 'List device groups, by id ascending',
    description: 'Every group with its `inherited_criteria`. Reads only the groups partition (no Scan).',
    parameters: [...paging],
    responses: { '200': { description: 'A page', ...json(ref('DeviceGroupList')) } },
  },
  'GET /v2/device-groups/{id}': {
    summary: 'Read a device group',
    parameters: [groupIdParam],
    responses: { '200': groupResponse('The group'), '404': error('Unknown group') },
  },
  'PUT /v2/device-groups/{id}': {
    summary: 'Replace name, description, parent_id and criteria (event device-group.update, data {previous, updated})',
    description:
      `An omitted description becomes "", an omitted parent_id makes ` +
      `the group a root. The read-only fields of a served group ` +
      `(id equal to the path's, inherited_criteria, created_at, ` +
      `updated_at, version) are accepted and ignored, so GET → edit ` +
      `→ PUT works; make it conditional with If-Match. A replacement ` +
      `that changes nothing returns the group unchanged: no event, ` +
      `no new version. ${groupChoices}`,
    parameters: [groupIdParam, ifMatch],
    requestBody: { required: true, ...json(ref('ReplaceDeviceGroup')) },
    responses: {
      '200': groupResponse('The replaced group'),
      '404': error('Unknown group (GROUP_NOT_FOUND) or parent (PARENT_GROUP_NOT_FOUND)'),
      '409': error('The name is taken (GROUP_NAME_TAKEN)'),
      '412': error('If-Match does not match'),
      '413': error('Body too large'),
      '415': error('Content type is not application/json'),
    },
  },
  'DELETE /v2/device-groups/{id}': {
    summary: 'Delete a device group (event device-group.delete per deleted group)',
    description:
      'A group with children is 409 GROUP_HAS_CHILDREN unless `cascade=true`, ' +
      'which deletes the whole subtree, leaves first: in one transaction ' +
      'up to 25 groups, otherwise in several, each leaving a valid ' +
      'tree (repeat the request if it was interrupted). Devices ' +
      'are never touched: membership is computed.',
    parameters: [groupIdParam, ifMatch, { name: 'cascade', in: 'query', schema: { type: 'boolean', default: false } }],
    responses: {
      '204': { description: 'Deleted' },
      '404': error('Unknown group'),
      '409': error('The group has children and cascade is not true'),
      '412': error('If-Match does not match'),
    },
  },
  'GET /v2/device-groups/{id}/devices': {
    summary: "The group's member devices",
    description:
      'The same query parameters and result as `GET /v2/devices`, ' +
      "restricted to the effective criteria (ancestors' and own) " +
      "ANDed with the request's filters. The most selective indexed " +
      'filter among all of them (id[eq], tags[ct], dms_owner[eq], ' +
      'status[eq], in that order) is the entry point, so a group ' +
      'with an indexed criterion never reads the whole fleet. A ' +
      "bookmark belongs to the group's criteria at the time: after " +
      'the group (or an ancestor) changes, it is 400 INVALID_BOOKMARK.',
    parameters: [groupIdParam, filterParam, ...sorting, ...paging],
    responses: {
      '200': { description: 'A page of devices', ...json(ref('DeviceList')) },
      '404': error('Unknown group'),
    },
  },
  'GET /v2/device-groups/{id}/stats': {
    summary: "Statistics of the group's members",
    description:
      'The shape of `GET /v2/stats/devices` over the members; `status` ' +
      'criteria (and `status` filters here) are allowed and mask ' +
      'the distribution. Counters serve it at constant cost when ' +
      'the effective criteria are only dms_owner[eq] and status ' +
      'criteria; otherwise the devices of the best indexed entry ' +
      'point are read once.',
    parameters: [groupIdParam, filterParam],
    responses: { '200': { description: 'Counts', ...json(ref('DeviceStats')) }, '404': error('Unknown group') },
  },
};

const slotParam = {
  name: 'slot',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,128}$' },
  description: 'Extra slot name; `identity` is reserved for the identity slot.',
};
const dmsParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,128}$' },
};
const policyResponse = (description: string) => ({
  description,
  headers: { ETag: { schema: { type: 'string' } } },
  ...json(ref('DmsPolicy')),
});
const BIND_DESCRIPTION = [
  'A new version becomes active: version 0 with event PROVISIONED, ' +
    'then RENEWED when the public key (x509) or the secret is ' +
    'unchanged, RE-PROVISIONED when it differs.',
  'Earlier versions are kept (the previous active one becomes ' +
    'SUPERSEDED). The slot status follows the status rules (docs/api.md, ' +
    'Status rules) at bind time with the DMS policy (or the defaults).',
  'x509: the first PEM CERTIFICATE block is parsed; the secret ' +
    'recorded is the serial in lowercase hex. Not a certificate: ' +
    '400; already expired: 422; decommissioned device: 409.',
].join(' ');

const SLOT_OPERATIONS: Record<string, Operation> = {
  'PUT /v2/devices/{id}/idslot': {
    summary: 'Bind an identity certificate (PROVISIONED, RENEWED or RE-PROVISIONED)',
    description: `${BIND_DESCRIPTION} The device status follows its identity slot.`,
    parameters: [idParam, ifMatch],
    requestBody: { required: true, ...json(ref('BindCertificate')) },
    responses: {
      '200': deviceResponse('The device'),
      '404': error('Unknown device'),
      '409': error('Decommissioned device'),
      '412': error('If-Match does not match'),
      '415': error('Not application/json'),
      '422': error('Certificate already expired'),
    },
  },
  'POST /v2/devices/{id}/idslot/revoke': {
    summary: 'Revoke the active identity version (device REVOKED)',
    description:
      'Reasons are RFC 5280 CRLReason names (PascalCase or camelCase). ' +
      'Revoking a revoked slot returns the device unchanged.',
    parameters: [idParam, ifMatch],
    requestBody: { required: true, ...json(ref('Revoke')) },
    responses: {
      '200': deviceResponse('The device'),
      '404': error('Unknown device or no identity slot'),
      '412': error('If-Match does not match'),
    },
  },
  'PUT /v2/devices/{id}/slots/{slot}': {
    summary: 'Bind a certificate or a secret to an extra slot',
    description:
      `${BIND_DESCRIPTION} Non-x509 types take {type, secret, expiration_date?}; ` +
      `the secret is an opaque reference, and anything that looks ` +
      `like a PEM private key is 400. A secret without expiration_date ` +
      `stays ACTIVE. Extra slots have their own status and events; ` +
      `the device status follows the identity slot only. A device ` +
      `holds at most ${MAX_EXTRA_SLOTS} extra slots besides its ` +
      `identity (a new one beyond that is 409 INVALID_STATE), and ` +
      `a slot lists the secrets of its newest ${INLINE_SECRET_LIMIT} ` +
      `versions inline (\`secrets\`; every version is served by ` +
      `the versions route): so every event of a valid device fits ` +
      `EventBridge's 256 KB entry.`,
    parameters: [idParam, slotParam, ifMatch],
    requestBody: { required: true, ...json(ref('BindSlot')) },
    responses: {
      '200': deviceResponse('The device'),
      '404': error('Unknown device'),
      '409': error(`Decommissioned device, or a new slot beyond the ${MAX_EXTRA_SLOTS} extra slots`),
      '412': error('If-Match does not match'),
      '422': error('Already expired'),
    },
  },
  'POST /v2/devices/{id}/slots/{slot}/revoke': {
    summary: 'Revoke the active version of an extra slot',
    parameters: [idParam, slotParam, ifMatch],
    requestBody: { required: true, ...json(ref('Revoke')) },
    responses: {
      '200': deviceResponse('The device'),
      '404': error('Unknown device or slot'),
      '412': error('If-Match does not match'),
    },
  },
  'GET /v2/devices/{id}/slots/{slot}/versions/{n}': {
    summary: 'One stored version of a slot (`identity` names the identity slot)',
    parameters: [
      idParam,
      { ...slotParam, description: 'Slot name, or `identity`.' },
      { name: 'n', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } },
    ],
    responses: {
      '200': { description: 'The version: PEM and parsed fields for x509', ...json(ref('SlotVersion')) },
      '404': error('Unknown device, slot or version'),
    },
  },
  'GET /v2/dms': {
    summary: 'Stored DMS renewal policies',
    parameters: [...paging],
    responses: {
      '200': {
        description: 'A page of policies',
        ...json({
          type: 'object',
          properties: { next: { type: 'string' }, list: { type: 'array', items: ref('DmsPolicy') } },
        }),
      },
    },
  },
  'GET /v2/dms/{id}': {
    summary: 'The renewal policy a DMS follows',
    description:
      'A DMS without a stored policy follows the deployment defaults ' +
      '(60d / 14d unless configured): answered with version 0.',
    parameters: [dmsParam],
    responses: { '200': policyResponse('The policy') },
  },
  'PUT /v2/dms/{id}': {
    summary: 'Create or replace a DMS renewal policy (event dms.update)',
    description:
      'critical_delta must be shorter than preventive_delta. Every ' +
      'device of the DMS is re-evaluated by the sweeper (within ' +
      'one sweep interval), not inside the request.',
    parameters: [dmsParam, ifMatch],
    requestBody: { required: true, ...json(ref('PutDmsPolicy')) },
    responses: {
      '200': policyResponse('The stored policy'),
      '412': error('If-Match does not match'),
      '415': error('Not application/json'),
    },
  },
};

/** Fleet posture (docs/api.md, Fleet posture): the policy and the findings. */
const POSTURE_CHECK_NAMES = [...postureCheckNames];
const posturePolicyBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    min_rsa_bits: { type: 'integer', minimum: 512, maximum: 16384, default: 2048 },
    min_ec_curve: { enum: ['P-256', 'P-384', 'P-521'], default: 'P-256' },
    weak_signature_hashes: {
      type: 'array',
      maxItems: 16,
      items: { type: 'string', pattern: '^[A-Z0-9]{2,16}$' },
      default: ['SHA1', 'MD5'],
    },
    max_validity_days: { type: 'integer', minimum: 1, maximum: 36525, description: 'No limit when absent.' },
    max_certificate_age_days: {
      type: 'integer',
      minimum: 1,
      maximum: 36525,
      description:
        'Days since notBefore (to the day) above which `certificate-too-old` is raised; judged when the ' +
        "slot's certificate is judged (the change that binds it, the re-evaluation walk of a policy change).",
    },
    issuer_certificates: {
      type: 'array',
      maxItems: 20,
      items: { type: 'string', minLength: 1, maxLength: 16384 },
      description:
        'PEM certificates of issuing CAs: how an issuer certificate becomes known. A certificate one of ' +
        'them issued (same DN; same key id when both name one) expiring after it raises ' +
        '`expires-after-issuer`. Absent: that check is not judged. 400 for a PEM that is not a certificate.',
    },
    allowed_issuers: {
      type: 'array',
      maxItems: 100,
      items: { type: 'string', minLength: 1, maxLength: 2048 },
      description: 'Issuer DN, then ` keyid:<hex>` when the certificate names its CA key; empty: any issuer.',
    },
  },
};
const posturePolicyResponse = (description: string) => ({
  description,
  headers: { ETag: { schema: { type: 'string' } } },
  ...json({ ...posturePolicyBody, properties: { ...posturePolicyBody.properties, version: { type: 'integer' } } }),
});
const NOT_READY = 'INDEX_NOT_READY: devices bound before posture existed are still being assessed (the sweeper)';

const POSTURE_OPERATIONS: Record<string, Operation> = {
  'GET /v2/posture/policy': {
    summary: 'The fleet posture policy (version 0: the defaults)',
    responses: { '200': posturePolicyResponse('The policy') },
  },
  'PUT /v2/posture/policy': {
    summary: 'Replace the fleet posture policy (scope dms:write)',
    description:
      'Omitted fields take their defaults. Every device is judged again ' +
      'by the sweeper in the background, not inside the request; ' +
      'findings change with their events as it passes each device.',
    parameters: [ifMatch],
    requestBody: { required: true, ...json(posturePolicyBody) },
    responses: {
      '200': posturePolicyResponse('The stored policy'),
      '412': error('If-Match does not match'),
      '415': error('Not application/json'),
    },
  },
  'GET /v2/findings': {
    summary: 'Open findings per check, from the counters',
    description:
      'One entry per check; `open` counts findings (a device ' +
      'with the check on two slots counts twice). `consistent_as_of` ' +
      'as for the statistics. `revoked-still-active-in-iot` is judged only with the IoT sync on; ' +
      'without it the check is still listed, with 0, so the list has the same checks in every ' +
      'deployment (a choice: the contract allows leaving it out).',
    responses: {
      '200': {
        description: 'The counts',
        ...json({
          type: 'object',
          properties: {
            checks: {
              type: 'array',
              items: {
                type: 'object',
                properties: { check: { enum: POSTURE_CHECK_NAMES }, open: { type: 'integer' } },
              },
            },
            consistent_as_of: { type: 'string', format: 'date-time' },
          },
        }),
      },
      '409': error(NOT_READY),
    },
  },
  'GET /v2/findings/{check}': {
    summary: 'The devices with an open finding of one check, by device id',
    description:
      "Read from the check's sharded sparse index, never a scan. One " +
      'row per device slot; a page holds up to page_size devices.',
    parameters: [{ name: 'check', in: 'path', required: true, schema: { enum: POSTURE_CHECK_NAMES } }, ...paging],
    responses: {
      '200': {
        description: 'A page of findings',
        ...json({
          type: 'object',
          properties: {
            next: { type: 'string' },
            list: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  device_id: { type: 'string' },
                  slot: { type: 'string' },
                  since: { type: 'string', format: 'date-time' },
                  detail: { type: 'string' },
                },
              },
            },
          },
        }),
      },
      '409': error(NOT_READY),
    },
  },
};

/** CA registration in AWS IoT (docs/iot-provisioning.md, CA registration). */
const IOT_CA_OPERATIONS: Record<string, Operation> = {
  'GET /v2/iot/registration-code': {
    summary: "The AWS IoT account's registration code (for a CA's verification certificate)",
    description:
      'A DEFAULT-mode CA registration proves the CA key by a certificate it signed whose common name is this code.',
    responses: {
      '200': {
        description: 'The code',
        ...json({
          type: 'object',
          properties: { registration_code: { type: 'string' } },
          required: ['registration_code'],
        }),
      },
    },
  },
  'POST /v2/iot/ca-certificates': {
    summary: 'Register a CA certificate in AWS IoT (DEFAULT with a verification certificate, or SNI_ONLY)',
    description:
      'Checked first: the certificate must be a CA; in DEFAULT mode the verification certificate must be ' +
      'signed by it. auto_registration turns on just-in-time registration of its device certificates, ' +
      'provisioning_template names the JITP template AWS IoT runs for them.',
    requestBody: { required: true, ...json(ref('RegisterIotCa')) },
    responses: {
      '201': {
        description: 'Registered',
        ...json({
          type: 'object',
          properties: {
            certificate_id: { type: 'string' },
            certificate_arn: { type: 'string' },
            mode: { enum: ['DEFAULT', 'SNI_ONLY'] },
            status: { enum: ['ACTIVE', 'INACTIVE'] },
            auto_registration: { type: 'boolean' },
            provisioning_template: { type: 'string' },
          },
          required: ['certificate_id', 'certificate_arn', 'mode', 'status', 'auto_registration'],
        }),
      },
      '400': error('Not a CA, a verification certificate the CA did not sign, or AWS IoT refused it (IOT_REJECTED)'),
      '409': error('AWS IoT has this CA registered already (CA_ALREADY_REGISTERED)'),
      '415': error('Not application/json'),
    },
  },
};

const OPERATIONS: Record<string, Operation> = {
  'POST /v2/devices': {
    summary: 'Register a device (event CREATED, status NO_IDENTITY)',
    requestBody: { required: true, ...json(ref('CreateDevice')) },
    responses: {
      '201': deviceResponse('Registered'),
      '409': error('A device with this id exists'),
      '413': error(`Body over ${MAX_BODY_BYTES} bytes`),
      '415': error('Content type is not application/json'),
    },
  },
  'GET /v2/devices': {
    summary: 'List devices',
    parameters: [filterParam, ...sorting, ...paging],
    responses: { '200': { description: 'A page', ...json(ref('DeviceList')) } },
  },
  'GET /v2/devices/{id}': {
    summary: 'Read a device',
    description:
      'Also `findings`: the open posture findings ' +
      '[{check, slot, since, detail}] (empty when none), served by this read only.',
    parameters: [idParam],
    responses: { '200': deviceResponse('The device'), '404': error('Unknown device') },
  },
  'PATCH /v2/devices/{id}': {
    summary: 'Change tags, metadata, icon, icon_color (event SHADOW-UPDATED)',
    description:
      'RFC 7396 merge patch (`application/merge-patch+json`, `null` ' +
      'removes a metadata key; tags, icon and icon_color cannot ' +
      'be removed) or RFC 6902 JSON patch (`application/json-patch+json`, ' +
      'paths under /tags, /metadata, /icon, /icon_color only). A ' +
      'patch that changes nothing returns the device unchanged: ' +
      'no event, no new version. Without If-Match, a concurrent ' +
      'change is merged by re-applying the patch to the fresh device.',
    parameters: [idParam, ifMatch],
    requestBody: {
      required: true,
      content: {
        'application/merge-patch+json': { schema: { type: 'object' } },
        'application/json-patch+json': { schema: { type: 'array', items: { type: 'object' } } },
      },
    },
    responses: {
      '200': deviceResponse('The patched device'),
      '404': error('Unknown device'),
      '412': error('If-Match does not match'),
      '413': error('Body too large'),
      '415': error('Unsupported content type'),
    },
  },
  'DELETE /v2/devices/{id}': {
    summary: 'Decommission a device (terminal; idempotent; data kept for audit)',
    description:
      'Sets status DECOMMISSIONED with events DECOMMISSIONED and ' +
      'STATUS-UPDATED. Decommissioning a decommissioned device returns ' +
      'it unchanged.',
    parameters: [idParam, ifMatch],
    responses: {
      '200': deviceResponse('The decommissioned device'),
      '404': error('Unknown device'),
      '412': error('If-Match does not match'),
    },
  },
  'GET /v2/devices/{id}/events': {
    summary: "A device's full event history, newest first",
    parameters: [idParam, ...paging],
    responses: {
      '200': { description: 'A page of events', ...json(ref('DeviceEventList')) },
      '404': error('Unknown device'),
    },
  },
  'GET /v2/stats/devices': {
    summary: 'Device statistics',
    description:
      'Without filters, with only dms_owner[eq], or with only one ' +
      'metadata.<indexed key>[eq|in], read from counters kept by ' +
      'every write (constant cost). Other filters count the devices ' +
      'read through the best indexed entry point, reading at most ' +
      'STATS_READ_BUDGET items (default 10000): beyond it the answer ' +
      'is 422 QUERY_TOO_BROAD naming the filter to index. `status` ' +
      'filters are 400.',
    parameters: [filterParam],
    responses: {
      '200': { description: 'Counts', ...json(ref('DeviceStats')) },
      '422': error('QUERY_TOO_BROAD: no index serves these filters within the read budget'),
    },
  },
  'GET /v2/stats/metadata/{key}': {
    summary: 'Value distribution of an indexed metadata key',
    description:
      'From counters that follow every write; it reads about 2 × ' +
      '`limit` items, whatever the number of values or devices ' +
      '(a key indexed before ranked values existed reads every value ' +
      'until its back-fill is done). Values are JSON ' +
      'texts (`"1.4.2"`, `3`, `true`; objects with sorted keys), ' +
      'most common first (ties by text); `other` counts the devices ' +
      'holding any value beyond `limit`. Devices without the key ' +
      'are not counted. A key not indexed is 400; a key still being ' +
      'back-filled is 409 INDEX_NOT_READY.',
    parameters: [
      {
        name: 'key',
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: 'An indexed metadata key (dotted path).',
      },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
    ],
    responses: {
      '200': {
        description: 'The distribution',
        ...json({
          type: 'object',
          required: ['key', 'values', 'other', 'consistent_as_of'],
          properties: {
            key: { type: 'string' },
            consistent_as_of: CONSISTENT_AS_OF,
            values: {
              type: 'array',
              items: {
                type: 'object',
                required: ['value', 'total', 'status_distribution'],
                properties: {
                  value: { type: 'string' },
                  total: { type: 'integer' },
                  status_distribution: { type: 'object', additionalProperties: { type: 'integer' } },
                },
              },
            },
            other: { type: 'integer' },
          },
        }),
      },
      '409': error('INDEX_NOT_READY: the key is being back-filled'),
    },
  },
  'GET /v2/stats/expirations': {
    summary: 'Expiry forecast',
    description:
      'Counts the active (not revoked, not superseded, not decommissioned) ' +
      'identity certificates and extra-slot secrets by expiration, ' +
      'from per-day counters applied from the table stream (`consistent_as_of`): ' +
      'the cost grows with the horizon, not the fleet. Buckets ' +
      'are UTC, start inclusive, end exclusive; the first bucket ' +
      'starts today (00:00 UTC) and the last ends at today + horizon_days; ' +
      'weeks start on Monday, months on the 1st. `already_expired` ' +
      'counts those whose expiration day is before today.',
    parameters: [
      { name: 'bucket', in: 'query', schema: { type: 'string', enum: ['day', 'week', 'month'], default: 'week' } },
      { name: 'horizon_days', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 730, default: 90 } },
      { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'Only `dms_owner[eq]<dms>`.' },
    ],
    responses: {
      '200': {
        description: 'The forecast',
        ...json({
          type: 'object',
          required: ['generated_at', 'bucket', 'already_expired', 'buckets', 'consistent_as_of'],
          properties: {
            generated_at: { type: 'string', format: 'date-time' },
            consistent_as_of: CONSISTENT_AS_OF,
            bucket: { type: 'string', enum: ['day', 'week', 'month'] },
            already_expired: { type: 'integer' },
            buckets: {
              type: 'array',
              items: {
                type: 'object',
                required: ['start', 'end', 'identity', 'slots'],
                properties: {
                  start: { type: 'string', format: 'date-time' },
                  end: { type: 'string', format: 'date-time' },
                  identity: { type: 'integer' },
                  slots: { type: 'integer' },
                },
              },
            },
          },
        }),
      },
    },
  },
  'GET /v2/stats/certificates': {
    summary: 'Certificate inventory',
    description:
      'The certificates in service (not revoked, not expired, device not decommissioned) of one slot ' +
      '(default the identity), counted by `key` (`RSA-<bits>`, `EC-P256`, `Ed25519`...), `signature` ' +
      '(as OpenSSL prints it), `issuer` (the DN, then `keyid:<hex>` when known) or `validity` (lifetime ' +
      'bucket), from counters applied from the table stream (`consistent_as_of`): the cost grows with the ' +
      'number of distinct values, not the fleet. Most common first (ties by name). Devices bound before ' +
      'the inventory existed are back-filled by the sweeper: until then 409 INDEX_NOT_READY. Drill down ' +
      'with the list filters `identity.key[eq]` and `identity.issuer[eq]` (indexed entry points).',
    parameters: [
      {
        name: 'by',
        in: 'query',
        required: true,
        schema: { type: 'string', enum: ['key', 'signature', 'issuer', 'validity'] },
      },
      {
        name: 'slot',
        in: 'query',
        schema: { type: 'string', default: 'identity' },
        description: '`identity` or an extra slot name.',
      },
    ],
    responses: {
      '200': {
        description: 'The counts',
        ...json({
          type: 'object',
          required: ['by', 'slot', 'counts', 'total', 'consistent_as_of'],
          properties: {
            by: { type: 'string', enum: ['key', 'signature', 'issuer', 'validity'] },
            slot: { type: 'string' },
            counts: { type: 'object', additionalProperties: { type: 'integer' } },
            total: { type: 'integer' },
            consistent_as_of: CONSISTENT_AS_OF,
          },
        }),
      },
      '409': error('INDEX_NOT_READY: the inventory is being back-filled'),
    },
  },
  'GET /v2/stats/connectivity': {
    summary: 'Connectivity counts (AWS IoT presence)',
    description:
      'Devices whose last AWS IoT presence event (with iotSync.presence) was a connect, and a disconnect, ' +
      'from counters applied from the table stream (`consistent_as_of`): constant cost. A device that never ' +
      'connected is in neither; a purged device leaves both. List them with `filter=connected[eq]true|false`.',
    responses: {
      '200': {
        description: 'The counts',
        ...json({
          type: 'object',
          required: ['connected', 'disconnected', 'consistent_as_of'],
          properties: {
            connected: { type: 'integer', minimum: 0 },
            disconnected: { type: 'integer', minimum: 0 },
            consistent_as_of: CONSISTENT_AS_OF,
          },
        }),
      },
    },
  },
  'GET /v2/openapi.json': {
    summary: 'This document',
    responses: { '200': { description: 'OpenAPI 3.1', ...json({ type: 'object' }) } },
  },
  ...GROUP_OPERATIONS,
  ...SLOT_OPERATIONS,
  ...POSTURE_OPERATIONS,
  ...JOB_OPERATIONS,
  ...IMPORT_OPERATIONS,
  ...IOT_CA_OPERATIONS,
  ...LAMASSU_OPERATIONS,
};

function componentSchemas(): Record<string, unknown> {
  // Referencing the schemas registers them; the registry export turns them into components.
  void [createDeviceSchema, deviceSchema, deviceEventSchema, errorSchema, statsSchema, deviceList, eventList];
  void [createGroupSchema, replaceGroupSchema, deviceGroupSchema, groupList];
  void [bindCertificateSchema, bindSlotSchema, revokeSchema, putPolicySchema, policySchema, slotVersionSchema];
  void JOB_SCHEMAS;
  void registerCaSchema;
  const { schemas } = toJSONSchema(globalRegistry, { uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

/** The document; `indexedMetadataKeys` (INDEXED_METADATA_KEYS) are listed as `x-indexed-metadata-keys`. */
export function openApiDocument(indexedMetadataKeys: readonly string[] = []): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of HTTP_ROUTES) {
    const op = OPERATIONS[`${route.method} ${route.path}`];
    if (!op) throw new Error(`route ${route.method} ${route.path} has no OpenAPI operation`);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.handler.replace(/[-/](\w)/g, (_, c: string) => c.toUpperCase()),
      security: route.scope === null ? [] : [{ jwt: [route.scope] }],
      ...op,
      responses: {
        ...(route.scope === null ? {} : common),
        ...(op.responses as object),
        '500': error('Internal error (no details)'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'device-manager',
      version: '2.0.0',
      description:
        'Device lifecycle manager. Errors are {err, code, details?}. ' +
        'Every device and device group has an integer `version`, sent ' +
        'as ETag; writes accept If-Match. Lists return {next, list}; ' +
        'next is "" on the last page. Timestamps are RFC 3339 UTC ' +
        'with milliseconds.',
    },
    servers: [{ url: '/' }],
    'x-indexed-metadata-keys': [...indexedMetadataKeys],
    paths,
    // Lifecycle events on EventBridge and the AWS IoT sync (docs/api.md, Events on EventBridge and AWS IoT Core
    // registry sync): not HTTP, documented here.
    'x-events': EVENTS_DOCUMENT,
    components: {
      schemas: { ...componentSchemas(), ...LAMASSU_SCHEMAS },
      securitySchemes: {
        jwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'Scopes devices:read, devices:write, groups:write, dms:write.',
        },
      },
    },
  };
}
