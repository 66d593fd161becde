/**
 * Request schema of `POST /v2/jobs` (docs/api.md, Remediation jobs), apart from schemas.ts so that only
 * the job routes build it at their cold start.
 */
import { DEFAULT_JOB_RATE, MAX_JOB_FILTERS, MAX_JOB_RATE, type NewJobInput } from './jobs';
import { MAX_TAGS, metadataSchema, storedText, tagSchema } from './schemas';
import { REVOCATION_REASONS } from './slots';
import {
  array,
  boolean,
  enum as enumOf,
  int,
  literal,
  maxLength,
  maximum,
  meta,
  minimum,
  minLength,
  optional,
  strictObject,
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

export const createJobSchema = strictObject({
  filter: array(storedText()).check(
    minLength(1),
    maxLength(MAX_JOB_FILTERS),
    meta({
      description:
        `1-${MAX_JOB_FILTERS} list filters (field[op]value, as in GET /v2/devices), ANDed; ` +
        'a job never selects the whole fleet by omission.',
      example: ['status[eq]ACTIVE', 'tags[ct]line-3'],
    }),
  ),
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
