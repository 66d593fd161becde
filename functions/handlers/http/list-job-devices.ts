import { ValidationError } from '../../domain/errors';
import { jobs } from '../../composition/jobs';
import { httpHandler, ok } from '../../http/http';
import { parsePaging } from '../../http/list-query';
import { jobIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = jobIdOf(request);
  const { pageSize, bookmark, problems } = parsePaging(request.query);
  if (problems.length > 0) throw new ValidationError('invalid list parameters', problems);
  return ok(await jobs().devices(id, pageSize, bookmark));
});
