/**
 * Request schemas. The same zod schemas validate requests at the edge and generate the OpenAPI
 * document (functions/openapi/openapi.ts), so the two cannot drift. Built with zod/mini (zod-mini.ts),
 * one module per kind of route, so a cold start builds only its route's: devices and DMS policies
 * here, groups in group-schemas.ts, slots in slot-schemas.ts; resource-schemas.ts only for OpenAPI.
 */
import {
  array,
  type core,
  maxLength,
  meta,
  minLength,
  nullable,
  optional,
  record,
  refine,
  regex,
  strictObject,
  string,
  superRefine,
  unknown,
} from './zod-mini';
import { ID_PATTERN, type FieldProblem } from './index';
import { dmsIotSchema } from './dms-iot';

export const MAX_TAGS = 50;

export const idSchema = string().check(
  regex(ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 : _ . -'),
  meta({ description: 'Immutable id: 1-128 characters of [A-Za-z0-9:_.-].', example: 'device-001' }),
);

/**
 * Well-formed UTF-16 (no lone surrogate): what DynamoDB and EventBridge store as UTF-8 unchanged.
 * A lone surrogate would be stored as U+FFFD, so `x\uD800` and `x\uFFFD` would become one name.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (text: string) => !LONE_SURROGATE.test(text);
export const WELL_FORMED_PROBLEM = 'must be well-formed Unicode (no lone surrogate)';

/** Every string the API stores starts here: a lone surrogate is a 400, never a silent U+FFFD. */
export const storedText = () => string().check(refine(wellFormed, WELL_FORMED_PROBLEM));

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

export const tagSchema = storedText().check(
  minLength(1),
  maxLength(128),
  // Control characters are exactly what this pattern rejects.
  regex(/^[^\u0000-\u001f#]+$/, 'must not contain control characters or #'),
);

export const tagsSchema = array(tagSchema).check(
  maxLength(MAX_TAGS),
  meta({ description: `Up to ${MAX_TAGS} tags; duplicates are removed.` }),
);
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
export const metadataSchema = record(string(), unknown()).check(
  superRefine((metadata, ctx) => {
    const problem = metadataProblem(metadata);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  meta({
    description:
      `Free JSON object: at most ${MAX_METADATA_BYTES} bytes (16 ` +
      `KiB) as compact UTF-8 JSON, nesting at most ${MAX_METADATA_DEPTH} ` +
      `levels (the object itself is level 1).`,
  }),
);
export const iconSchema = storedText().check(minLength(1), maxLength(64));
/** One CSS hex colour: #rgb, #rrggbb or #rrggbbaa. */
const HEX_COLOR = '#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})';
export const ICON_COLOR_PATTERN = `^${HEX_COLOR}(?:-${HEX_COLOR})?$`;
/**
 * A hex colour, or Lamassu's `<colour>-<background>` pair (`#0f67ff-#F0F8FF`), which Lamassu's
 * dashboard and RA profiles write and split on `-`. Stored and returned as given.
 */
export const iconColorSchema = string().check(
  regex(
    new RegExp(ICON_COLOR_PATTERN),
    'must be a hex color like #25ee32, or a color-background pair like #0f67ff-#F0F8FF',
  ),
  meta({
    description:
      'A hex colour (`#25ee32`; 3, 6 or 8 digits) or a `<colour>-<background>` ' +
      'pair of them (`#0f67ff-#F0F8FF`, the form Lamassu writes). ' +
      'Stored and returned as given.',
  }),
);

export const createDeviceSchema = strictObject({
  id: idSchema,
  dms_id: idSchema.check(meta({ description: 'The DMS that owns the device; selects its renewal policy.' })),
  tags: optional(tagsSchema),
  metadata: optional(metadataSchema),
  icon: optional(iconSchema),
  icon_color: optional(iconColorSchema),
}).check(meta({ id: 'CreateDevice' }));

/** What a PATCH must leave behind: the four patchable fields, valid. */
export const shadowSchema = strictObject({
  tags: tagsSchema,
  metadata: metadataSchema,
  icon: iconSchema,
  icon_color: iconColorSchema,
});

/** Converts zod issues into the contract's `details` entries. */
export function problemsOf(error: core.$ZodError, prefix = ''): FieldProblem[] {
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

const durationSchema = string().check(
  meta({ description: 'Duration: 90d, 36h, 30m, or combined like 1d12h.', example: '60d' }),
);

export const renewalSettingsSchema = strictObject({
  preventive_delta: durationSchema,
  critical_delta: durationSchema,
});

export const putPolicySchema = strictObject({
  name: optional(storedText().check(minLength(1), maxLength(256))),
  settings: renewalSettingsSchema,
  iot: optional(
    nullable(dmsIotSchema).check(
      meta({ description: 'AWS IoT settings of the DMS: absent keeps the stored ones, null removes them.' }),
    ),
  ),
}).check(meta({ id: 'PutDmsPolicy' }));
