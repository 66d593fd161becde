/**
 * Request and resource schemas. The same zod schemas validate requests at the edge and generate the
 * OpenAPI document (functions/openapi/openapi.ts), so the two cannot drift.
 */
import {
  array,
  enum as enumOf,
  iso,
  literal,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
  type ZodError,
  type ZodType,
} from 'zod';
import { DEVICE_EVENT_TYPES, DEVICE_STATUSES, ID_PATTERN, SLOT_STATUSES, SLOT_TYPES, type FieldProblem } from './index';
import { MAX_GROUP_CRITERIA, MAX_GROUP_DESCRIPTION_LENGTH, MAX_GROUP_NAME_LENGTH } from './groups';

/**
 * Only the builders the schemas use. A `z` namespace import would bundle all of zod (its locales
 * included): 450 KB instead of 85 KB in every Lambda.
 */
const z = { array, enum: enumOf, iso, literal, number, object, record, strictObject, string, union, unknown };

export const MAX_TAGS = 50;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 : _ . -')
  .meta({ description: 'Immutable id: 1-128 characters of [A-Za-z0-9:_.-].', example: 'device-001' });

/**
 * Well-formed UTF-16 (no lone surrogate): what DynamoDB and EventBridge store as UTF-8 unchanged.
 * A lone surrogate would be stored as U+FFFD, so `x\uD800` and `x\uFFFD` would become one name.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (text: string) => !LONE_SURROGATE.test(text);
export const WELL_FORMED_PROBLEM = 'must be well-formed Unicode (no lone surrogate)';

/** Every string the API stores starts here: a lone surrogate is a 400, never a silent U+FFFD. */
export const storedText = () => z.string().refine(wellFormed, WELL_FORMED_PROBLEM);

/** Whether any key or string inside a JSON value holds a lone surrogate (iterative). */
export function hasLoneSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (!wellFormed(node)) return true;
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (!wellFormed(key)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

export const tagSchema = storedText()
  .min(1)
  .max(128)
  // Control characters are exactly what this pattern rejects.
  .regex(/^[^\u0000-\u001f#]+$/, 'must not contain control characters or #');

export const tagsSchema = z
  .array(tagSchema)
  .max(MAX_TAGS)
  .meta({ description: `Up to ${MAX_TAGS} tags; duplicates are removed.` });
/** docs/api.md, Limits and edges: metadata is at most 16 KiB as compact UTF-8 JSON, and nests at most 8 levels. */
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_METADATA_DEPTH = 8;

/** Whether a JSON value has more than `max` levels of containers (iterative: any input is safe). */
export function nestsDeeper(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Why metadata breaks the limits, or undefined. Depth counts containers, the metadata object being
 * level 1. Iterative and checked before serializing, so no input can exhaust the stack.
 */
export function metadataProblem(metadata: Record<string, unknown>): string | undefined {
  if (nestsDeeper(metadata, MAX_METADATA_DEPTH)) return `nests deeper than ${MAX_METADATA_DEPTH} levels`;
  if (hasLoneSurrogate(metadata)) return `${WELL_FORMED_PROBLEM} in every key and string`;
  const bytes = new TextEncoder().encode(JSON.stringify(metadata)).length;
  if (bytes > MAX_METADATA_BYTES) return `is ${bytes} bytes as compact UTF-8 JSON; the limit is ${MAX_METADATA_BYTES}`;
  return undefined;
}

// Bodies are parsed JSON already, so any value here is JSON; z.unknown keeps the OpenAPI schema flat.
export const metadataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((metadata, ctx) => {
    const problem = metadataProblem(metadata);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description:
      `Free JSON object: at most ${MAX_METADATA_BYTES} bytes (16 ` +
      `KiB) as compact UTF-8 JSON, nesting at most ${MAX_METADATA_DEPTH} ` +
      `levels (the object itself is level 1).`,
  });
export const iconSchema = storedText().min(1).max(64);
/** One CSS hex colour: #rgb, #rrggbb or #rrggbbaa. */
const HEX_COLOR = '#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})';
export const ICON_COLOR_PATTERN = `^${HEX_COLOR}(?:-${HEX_COLOR})?$`;
/**
 * A hex colour, or Lamassu's `<colour>-<background>` pair (`#0f67ff-#F0F8FF`), which Lamassu's
 * dashboard and RA profiles write and split on `-`. Stored and returned as given.
 */
export const iconColorSchema = z
  .string()
  .regex(
    new RegExp(ICON_COLOR_PATTERN),
    'must be a hex color like #25ee32, or a color-background pair like #0f67ff-#F0F8FF',
  )
  .meta({
    description:
      'A hex colour (`#25ee32`; 3, 6 or 8 digits) or a `<colour>-<background>` ' +
      'pair of them (`#0f67ff-#F0F8FF`, the form Lamassu writes). ' +
      'Stored and returned as given.',
  });

export const createDeviceSchema = z
  .strictObject({
    id: idSchema,
    dms_id: idSchema.meta({ description: 'The DMS that owns the device; selects its renewal policy.' }),
    tags: tagsSchema.optional(),
    metadata: metadataSchema.optional(),
    icon: iconSchema.optional(),
    icon_color: iconColorSchema.optional(),
  })
  .meta({ id: 'CreateDevice' });

/** What a PATCH must leave behind: the four patchable fields, valid. */
export const shadowSchema = z.strictObject({
  tags: tagsSchema,
  metadata: metadataSchema,
  icon: iconSchema,
  icon_color: iconColorSchema,
});

const inlineEventSchema = z.object({ type: z.enum(DEVICE_EVENT_TYPES), description: z.string() });

export const slotSchema = z
  .object({
    status: z.enum(SLOT_STATUSES),
    active_version: z.number().int(),
    type: z.enum(SLOT_TYPES),
    secrets: z.record(z.string(), z.string()),
    expiration_date: z.iso.datetime().optional(),
    events: z.record(z.string(), inlineEventSchema),
  })
  .meta({ id: 'Slot' });

export const deviceSchema = z
  .object({
    id: idSchema,
    tags: z.array(z.string()),
    status: z.enum(DEVICE_STATUSES),
    icon: z.string(),
    icon_color: z.string(),
    creation_timestamp: z.iso.datetime(),
    metadata: metadataSchema,
    dms_owner: z.string(),
    identity: slotSchema.optional(),
    slots: z.record(z.string(), slotSchema),
    events: z
      .record(z.string(), inlineEventSchema)
      .meta({ description: 'The 20 most recent events, keyed by timestamp.' }),
    version: z.number().int().meta({ description: 'Optimistic-concurrency version; also sent as ETag.' }),
  })
  .meta({ id: 'Device' });

export const deviceEventSchema = z
  .object({
    timestamp: z.iso.datetime(),
    type: z.enum(DEVICE_EVENT_TYPES),
    description: z.string(),
    slot: z.string().optional(),
  })
  .meta({ id: 'DeviceEvent' });

export const errorSchema = z
  .object({
    err: z.string(),
    code: z.string(),
    details: z.array(z.object({ field: z.string(), problem: z.string() })).optional(),
  })
  .meta({ id: 'Error' });

export const statsSchema = z
  .object({
    total: z.number().int(),
    status_distribution: z.object(Object.fromEntries(DEVICE_STATUSES.map((s) => [s, z.number().int()]))),
    // Counters follow the table's stream: every change committed before this instant is counted.
    consistent_as_of: z.iso.datetime(),
  })
  .meta({ id: 'DeviceStats' });

export const listOf = <T extends ZodType>(item: T, id: string) =>
  z
    .object({
      next: z.string().meta({ description: 'Bookmark of the next page; empty on the last page.' }),
      list: z.array(item),
    })
    .meta({ id });

/** Converts zod issues into the contract's `details` entries. */
export function problemsOf(error: ZodError, prefix = ''): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const field = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    // docs/api.md, Wire conventions: one entry per offending field, so each unknown key is named on its own.
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        field: [field, key].filter((p) => p !== '').join('.'),
        problem: `unknown field '${key}'`,
      }));
    return [{ field: field || '(body)', problem: issue.message }];
  });
}

// Device groups (docs/api.md, Resources). Criteria are checked here for shape only; their fields, operators and
// values are validated by compileGroupCriteria (functions/domain/groups.ts), naming `criteria[i]`.

export const groupCriterionSchema = z
  .strictObject({
    field: storedText()
      .min(1)
      .meta({
        description:
          'A device filter field (docs/api.md, Filters and sort): id, ' +
          'dms_owner, icon, status, tags, creation_timestamp, identity.expiration_date, ' +
          'metadata.<dotted.path>.',
      }),
    operand: storedText()
      .min(1)
      .meta({ description: 'An operator valid for the field (the same as in `filter=field[op]value`).' }),
    value: storedText().meta({
      description:
        'Always a string, as in a filter parameter: `in`/`nin` take ' +
        'comma-separated values; metadata values are read as JSON ' +
        'when they parse (e.g. "5" is a number).',
    }),
  })
  .meta({ id: 'GroupCriterion', example: { field: 'tags', operand: 'ct', value: 'eu' } });

export const groupNameSchema = storedText()
  .min(1)
  .max(MAX_GROUP_NAME_LENGTH)
  // Control characters are exactly what this pattern rejects.
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
  .refine((s) => s.trim() === s, 'must not start or end with whitespace')
  .meta({
    description:
      `1-${MAX_GROUP_NAME_LENGTH} characters, unique among groups ` +
      `compared case-insensitively (Unicode NFKC, then lower case).`,
    example: 'Production EU',
  });

const groupFields = {
  name: groupNameSchema,
  description: storedText()
    .max(MAX_GROUP_DESCRIPTION_LENGTH)
    .optional()
    .meta({ description: 'Free text; omitted means "".' }),
  parent_id: idSchema
    .nullable()
    .optional()
    .meta({ description: 'The parent group; null or omitted makes a root group.' }),
  criteria: z
    .array(groupCriterionSchema)
    .max(MAX_GROUP_CRITERIA)
    .meta({
      description:
        `Up to ${MAX_GROUP_CRITERIA} criteria, ANDed with each other ` +
        `and with every ancestor's; [] matches every device the ancestors ` +
        `match.`,
    }),
};

export const createGroupSchema = z
  .strictObject({
    id: idSchema
      .optional()
      .meta({ description: 'Group id (device id rules); a UUID is generated when omitted.', example: 'eu-prod' }),
    ...groupFields,
  })
  .meta({ id: 'CreateDeviceGroup' });

/**
 * PUT body. The read-only fields of a served group are tolerated and ignored so that GET → edit → PUT
 * works; `id`, when given, must be the id in the path. Concurrency is If-Match's job, not `version`'s.
 */
export const replaceGroupSchema = z
  .strictObject({
    ...groupFields,
    id: idSchema.optional().meta({ description: 'Ignored when equal to the id in the path; anything else is 400.' }),
    inherited_criteria: z.array(z.unknown()).optional().meta({ readOnly: true, description: 'Ignored.' }),
    created_at: z.unknown().optional().meta({ readOnly: true, description: 'Ignored.' }),
    updated_at: z.unknown().optional().meta({ readOnly: true, description: 'Ignored.' }),
    version: z
      .unknown()
      .optional()
      .meta({ readOnly: true, description: 'Ignored: send If-Match to make the replacement conditional.' }),
  })
  .meta({ id: 'ReplaceDeviceGroup' });

export const deviceGroupSchema = z
  .object({
    id: idSchema,
    name: z.string(),
    description: z.string(),
    parent_id: z.string().nullable().meta({ description: 'null for a root group (never omitted).' }),
    criteria: z.array(groupCriterionSchema).meta({ description: "The group's own criteria." }),
    inherited_criteria: z.array(groupCriterionSchema).meta({
      description:
        "Every ancestor's criteria, root first (the root's, then its " +
        "child's, … then the parent's). Members match these AND criteria.",
    }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    version: z.number().int().meta({ description: 'Optimistic-concurrency version; also sent as ETag.' }),
  })
  .meta({ id: 'DeviceGroup' });

/** Zod issue paths `criteria.2.value` read `criteria[2].value`, like the criteria problems do. */
export function groupProblemsOf(error: ZodError): FieldProblem[] {
  return problemsOf(error).map((p) => ({ ...p, field: p.field.replace(/\.(\d+)(?=\.|$)/g, '[$1]') }));
}

export const bindCertificateSchema = z
  .strictObject({
    certificate: z.string().min(1).meta({ description: 'PEM certificate (the first CERTIFICATE block is used).' }),
  })
  .meta({ id: 'BindCertificate' });

export const bindSlotSchema = z
  .union([
    z.strictObject({ type: z.literal('x509').optional(), certificate: z.string().min(1) }),
    z.strictObject({
      type: z.enum(['SSH_KEY', 'TOKEN', 'OTHER']),
      secret: z
        .string()
        .min(1)
        .max(4096)
        .regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, 'must be printable ASCII without " or \\')
        .meta({
          description:
            'Opaque reference to the secret (never a private key), e.g. ' +
            'an ARN or URI: 1-4096 printable ASCII characters without ' +
            '`"` or `\\`.',
        }),
      expiration_date: z.iso.datetime({ offset: true }).optional(),
    }),
  ])
  .meta({ id: 'BindSlot' });

export const revokeSchema = z
  .strictObject({
    reason: storedText()
      .min(1)
      .meta({ description: 'RFC 5280 reason name, e.g. KeyCompromise, CessationOfOperation (case-insensitive).' }),
  })
  .meta({ id: 'Revoke' });

const durationSchema = z
  .string()
  .meta({ description: 'Duration: 90d, 36h, 30m, or combined like 1d12h.', example: '60d' });

export const renewalSettingsSchema = z.strictObject({
  preventive_delta: durationSchema,
  critical_delta: durationSchema,
});

export const putPolicySchema = z
  .strictObject({ name: storedText().min(1).max(256).optional(), settings: renewalSettingsSchema })
  .meta({ id: 'PutDmsPolicy' });

export const policySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    settings: renewalSettingsSchema,
    version: z.number().int().meta({ description: '0: the deployment defaults (no stored policy).' }),
  })
  .meta({ id: 'DmsPolicy' });

export const slotVersionSchema = z
  .object({
    slot: z.string(),
    version: z.number().int(),
    type: z.enum(SLOT_TYPES),
    status: z.enum(['ACTIVE', 'SUPERSEDED', 'REVOKED']),
    created_at: z.iso.datetime(),
    expiration_date: z.iso.datetime().optional(),
    certificate: z.string().optional().meta({ description: 'PEM (x509)' }),
    serial_number: z.string().optional(),
    issuer: z.string().optional(),
    subject: z.string().optional(),
    not_before: z.iso.datetime().optional(),
    not_after: z.iso.datetime().optional(),
    sha256_fingerprint: z.string().optional(),
    public_key_sha256: z.string().optional(),
    secret: z.string().optional(),
    revocation_reason: z.string().optional(),
    revoked_at: z.iso.datetime().optional(),
  })
  .meta({ id: 'SlotVersion' });
