import { jobs } from '../../composition/jobs';
import { createJobSchema } from '../../domain/job-schemas';
import { bodyOf } from '../../http/body';
import { httpHandler } from '../../http/http';

/** 202: the job runs in the background (docs/api.md, Remediation jobs). */
export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const job = await jobs().create(bodyOf(request, createJobSchema, 'job'));
  return { statusCode: 202, body: job, headers: { location: `/v2/jobs/${encodeURIComponent(job.id)}` } };
});
