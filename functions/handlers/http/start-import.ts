import { imports } from '../../composition/imports';
import { taskQueues } from '../../composition/task-composition';
import { httpHandler } from '../../http/http';
import { importIdOf } from '../../http/params';

/** `POST /v2/imports/{id}/start`: begins an uploaded import, or resumes a running one (pieces done are skipped). */
export const handler = httpHandler({}, async (request) => ({
  statusCode: 202,
  body: await imports(taskQueues).start(importIdOf(request)),
}));
