/** The OpenAPI operations of the remediation jobs (docs/api.md, Remediation jobs). */
import { createJobSchema, jobDeviceOutcomeSchema, jobSchema } from '../domain/job-schemas';
import { MAX_JOB_RATE } from '../domain/jobs';
import { listOf } from '../domain/resource-schemas';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });

/** Referencing the schemas registers them as components. */
export const JOB_SCHEMAS = [
  createJobSchema,
  jobSchema,
  jobDeviceOutcomeSchema,
  listOf(jobSchema, 'JobList'),
  listOf(jobDeviceOutcomeSchema, 'JobDeviceOutcomeList'),
];

const jobIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,128}$' },
  description: 'Job id (as returned by POST /v2/jobs).',
};
const paging = [
  { name: 'page_size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 25 } },
  { name: 'bookmark', in: 'query', schema: { type: 'string' }, description: 'Opaque `next` of the previous page.' },
];
const jobResponse = (description: string) => ({ description, ...json(ref('Job')) });

export const JOB_OPERATIONS: Record<string, Record<string, unknown>> = {
  'POST /v2/jobs': {
    summary: 'Start a remediation job (event job.create)',
    description: [
      'Applies `action` to every device the `filter` selection matches (the list filters of GET /v2/devices, ' +
        'ANDed; at least one), in the background. The selection is walked by id when the job runs, so a ' +
        'device that matches by then is included.',
      'Or, instead of `filter`, `finding`: the devices with that posture check open, read from the ' +
        "check's own index (not the fleet); 409 INDEX_NOT_READY until the findings are first assessed.",
      'Each device is changed at most once per job: its outcome is written in the same transaction as its ' +
        'change, and a re-run of a page after a crash skips what the job did already.',
      `At most \`rate_per_second\` devices a second (1-${MAX_JOB_RATE}). A dry run changes nothing: it ` +
        'counts the selection (`matched`) and lists it as `matched` outcomes.',
      'A device the action cannot apply to (a result over a limit, a state that refuses it) is counted ' +
        '`failed` with its reason; the job goes on and ends SUCCEEDED. FAILED means the selection itself ' +
        'could not be read.',
    ].join(' '),
    requestBody: { required: true, ...json(ref('CreateJob')) },
    responses: {
      '202': {
        description: 'Accepted: PENDING',
        headers: { Location: { schema: { type: 'string' } } },
        ...json(ref('Job')),
      },
      '409': error('INDEX_NOT_READY: a finding selection before the findings are first assessed'),
      '415': error('Not application/json'),
    },
  },
  'GET /v2/jobs': {
    summary: 'Jobs, newest first',
    parameters: paging,
    responses: { '200': { description: 'A page of jobs', ...json(ref('JobList')) } },
  },
  'GET /v2/jobs/{id}': {
    summary: 'A job: status and counts',
    parameters: [jobIdParam],
    responses: { '200': jobResponse('The job'), '404': error('Unknown job') },
  },
  'GET /v2/jobs/{id}/devices': {
    summary: "A job's outcome per device, by device id",
    parameters: [jobIdParam, ...paging],
    responses: {
      '200': { description: 'A page of outcomes', ...json(ref('JobDeviceOutcomeList')) },
      '404': error('Unknown job'),
    },
  },
  'POST /v2/jobs/{id}/cancel': {
    summary: 'Cancel a job (event job.status.update)',
    description:
      'A PENDING or RUNNING job becomes CANCELLED; the walk stops after the page in flight (devices ' +
      'already changed stay changed). Cancelling a CANCELLED job returns it; a SUCCEEDED or FAILED one is ' +
      '409 JOB_FINISHED.',
    parameters: [jobIdParam],
    responses: {
      '200': jobResponse('The cancelled job'),
      '404': error('Unknown job'),
      '409': error('JOB_FINISHED'),
    },
  },
};
