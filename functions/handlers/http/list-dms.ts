import { ValidationError } from '../../domain/errors';
import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { parsePaging } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) => {
  const { pageSize, bookmark, problems } = parsePaging(request.query);
  if (problems.length > 0) throw new ValidationError('invalid list parameters', problems);
  return ok(await services().dms.list(pageSize, bookmark));
});
