/**
 * Request schemas of the group routes (docs/api.md, Resources), apart from schemas.ts so that only the
 * group routes build them at their cold start.
 */
import { MAX_GROUP_CRITERIA, MAX_GROUP_DESCRIPTION_LENGTH, MAX_GROUP_NAME_LENGTH } from './groups';
import type { FieldProblem } from './index';
import { idSchema, problemsOf, storedText } from './schemas';
import {
  array,
  type core,
  maxLength,
  meta,
  minLength,
  nullable,
  optional,
  refine,
  regex,
  strictObject,
  unknown,
  type ZodMiniType,
} from './zod-mini';

// Device groups (docs/api.md, Resources). Criteria are checked here for shape only; their fields, operators and
// values are validated by compileGroupCriteria (functions/domain/groups.ts), naming `criteria[i]`.

export const groupCriterionSchema = strictObject({
  field: storedText().check(
    minLength(1),
    meta({
      description:
        'A device filter field (docs/api.md, Filters and sort): id, ' +
        'dms_owner, icon, status, tags, creation_timestamp, identity.expiration_date, ' +
        'metadata.<dotted.path>.',
    }),
  ),
  operand: storedText().check(
    minLength(1),
    meta({ description: 'An operator valid for the field (the same as in `filter=field[op]value`).' }),
  ),
  value: storedText().check(
    meta({
      description:
        'Always a string, as in a filter parameter: `in`/`nin` take ' +
        'comma-separated values; metadata values are read as JSON ' +
        'when they parse (e.g. "5" is a number).',
    }),
  ),
}).check(meta({ id: 'GroupCriterion', example: { field: 'tags', operand: 'ct', value: 'eu' } }));

export const groupNameSchema = storedText().check(
  minLength(1),
  maxLength(MAX_GROUP_NAME_LENGTH),
  // Control characters are exactly what this pattern rejects.
  regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters'),
  refine((s) => s.trim() === s, 'must not start or end with whitespace'),
  meta({
    description:
      `1-${MAX_GROUP_NAME_LENGTH} characters, unique among groups ` +
      `compared case-insensitively (Unicode NFKC, then lower case).`,
    example: 'Production EU',
  }),
);

const groupFields = {
  name: groupNameSchema,
  description: optional(storedText().check(maxLength(MAX_GROUP_DESCRIPTION_LENGTH))).check(
    meta({ description: 'Free text; omitted means "".' }),
  ),
  parent_id: optional(nullable(idSchema)).check(
    meta({ description: 'The parent group; null or omitted makes a root group.' }),
  ),
  criteria: array(groupCriterionSchema).check(
    maxLength(MAX_GROUP_CRITERIA),
    meta({
      description:
        `Up to ${MAX_GROUP_CRITERIA} criteria, ANDed with each other ` +
        `and with every ancestor's; [] matches every device the ancestors ` +
        `match.`,
    }),
  ),
};

export const createGroupSchema = strictObject({
  id: optional(idSchema).check(
    meta({ description: 'Group id (device id rules); a UUID is generated when omitted.', example: 'eu-prod' }),
  ),
  ...groupFields,
}).check(meta({ id: 'CreateDeviceGroup' }));

/** A request field a served resource has and a write ignores (GET → edit → PUT works). */
const ignored = <T extends ZodMiniType>(schema: T, description = 'Ignored.') =>
  optional(schema).check(meta({ readOnly: true, description }));

/**
 * PUT body. The read-only fields of a served group are tolerated and ignored so that GET → edit → PUT
 * works; `id`, when given, must be the id in the path. Concurrency is If-Match's job, not `version`'s.
 */
export const replaceGroupSchema = strictObject({
  ...groupFields,
  id: optional(idSchema).check(
    meta({ description: 'Ignored when equal to the id in the path; anything else is 400.' }),
  ),
  inherited_criteria: ignored(array(unknown())),
  created_at: ignored(unknown()),
  updated_at: ignored(unknown()),
  version: ignored(unknown(), 'Ignored: send If-Match to make the replacement conditional.'),
}).check(meta({ id: 'ReplaceDeviceGroup' }));

/** Zod issue paths `criteria.2.value` read `criteria[2].value`, like the criteria problems do. */
export function groupProblemsOf(error: core.$ZodError): FieldProblem[] {
  return problemsOf(error).map((p) => ({ ...p, field: p.field.replace(/\.(\d+)(?=\.|$)/g, '[$1]') }));
}
