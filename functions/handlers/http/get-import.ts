import { imports } from '../../composition/imports';
import { taskQueues } from '../../composition/task-composition';
import { ValidationError } from '../../domain/errors';
import { httpHandler, ok } from '../../http/http';
import { parsePaging } from '../../http/list-query';
import { importIdOf } from '../../http/params';

/** `GET /v2/imports/{id}`: where the import stands, and a page of its report (rows that did not go in). */
export const handler = httpHandler({}, async (request) => {
  const { pageSize, bookmark, problems } = parsePaging(request.query);
  if (problems.length > 0) throw new ValidationError('invalid query', problems);
  return ok(await imports(taskQueues).view(importIdOf(request), pageSize, bookmark));
});
