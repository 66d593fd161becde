/**
 * Request schema of `POST /v2/jobs` (docs/api.md, Remediation jobs), apart from schemas.ts so that only
 * the job routes build it at their cold start.
 */
import { DEFAULT_JOB_RATE, JOB_STATUSES, MAX_JOB_FILTERS, MAX_JOB_RATE, type NewJobInput } from './jobs';
import { postureCheckNames } from './posture-checks';
import { MAX_TAGS, metadataSchema, storedText, tagSchema } from './schemas';
import { REVOCATION_REASONS } from './slots';
import {
  array,
  boolean,
  enum as enumOf,
  int,
  iso,
  literal,
  maxLength,
  maximum,
  meta,
  minimum,
  minLength,
  object,
  optional,
  strictObject,
  string,
  union,
} from './zod-mini';

const tagList = array(tagSchema).check(minLength(1), maxLength(MAX_TAGS));

export const jobActionSchema = union([
  strictObject({ type: literal('revoke-identity'), reason: enumOf(REVOCATION_REASONS) }),
  strictObject({ type: literal('decommission') }),
  strictObject({ type: literal('add-tags'), tags: tagList }),
  strictObject({ type: literal('remove-tags'), tags: tagList }),
  strictObject({ type: literal('merge-metadata'), metadata: metadataSchema }),
]).check(
  meta({
    id: 'JobAction',
    description:
      'What is done to each selected device: revoke-identity (reason: RFC 5280 name), decommission, ' +
      'add-tags / remove-tags (tags), merge-metadata (an RFC 7396 merge patch of the metadata).',
    example: { type: 'revoke-identity', reason: 'KeyCompromise' },
  }),
);

const findingSchema = enumOf(postureCheckNames).check(
  meta({
    description:
      'The selection: the devices with this posture check open (GET /v2/findings/{check}), read from ' +
      "the check's own index, not the fleet. Exactly one of filter and finding.",
    example: 'weak-key',
  }),
);

export const createJobSchema = strictObject({
  filter: optional(
    array(storedText()).check(
      minLength(1),
      maxLength(MAX_JOB_FILTERS),
      meta({
        description:
          `1-${MAX_JOB_FILTERS} list filters (field[op]value, as in GET /v2/devices), ANDed; ` +
          'a job never selects the whole fleet by omission. Exactly one of filter and finding.',
        example: ['status[eq]ACTIVE', 'tags[ct]line-3'],
      }),
    ),
  ),
  finding: optional(findingSchema),
  action: jobActionSchema,
  dry_run: optional(boolean()).check(
    meta({ description: 'Count and list the matching devices; change nothing. Default false.' }),
  ),
  rate_per_second: optional(int().check(minimum(1), maximum(MAX_JOB_RATE))).check(
    meta({ description: `Devices per second at most (1-${MAX_JOB_RATE}); default ${DEFAULT_JOB_RATE}.` }),
  ),
}).check(meta({ id: 'CreateJob' }));

/** The schema's output is the use case's input. */
export type CreateJobBody = NewJobInput;

const countsSchema = object({
  matched: int(),
  done: int(),
  skipped: int(),
  failed: int(),
}).check(
  meta({
    id: 'JobCounts',
    description:
      'Devices the selection matched so far; of them changed (done), already as the action wants ' +
      '(skipped), refused with a reason (failed). A dry run counts only matched.',
  }),
);

/** A job as the API returns it (responses only: documented in the OpenAPI document). */
export const jobSchema = object({
  id: string(),
  status: enumOf(JOB_STATUSES),
  dry_run: boolean(),
  filter: array(string()).check(meta({ description: 'The list filters of the selection; empty for a finding.' })),
  finding: optional(enumOf(postureCheckNames)).check(
    meta({ description: 'The posture check whose open findings are the selection, if that is the selection.' }),
  ),
  action: jobActionSchema,
  rate_per_second: int(),
  counts: countsSchema,
  created_at: iso.datetime(),
  updated_at: iso.datetime(),
  error: optional(string()).check(meta({ description: 'Why a FAILED job stopped.' })),
}).check(meta({ id: 'Job' }));

export const jobDeviceOutcomeSchema = object({
  job_id: string(),
  device_id: string(),
  outcome: enumOf(['done', 'skipped', 'failed', 'matched']),
  detail: optional(string()),
  at: iso.datetime(),
  step: int().check(meta({ description: 'The page of the walk that recorded it (internal, for audit).' })),
}).check(meta({ id: 'JobDeviceOutcome' }));
