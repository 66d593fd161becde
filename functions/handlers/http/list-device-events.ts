import { ValidationError } from '../../domain/errors';
import { devices } from '../../composition/devices';
import { httpHandler, ok } from '../../http/http';
import { parsePaging } from '../../http/list-query';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = deviceIdOf(request);
  const { pageSize, bookmark, problems } = parsePaging(request.query);
  if (problems.length > 0) throw new ValidationError('invalid list parameters', problems);
  return ok(await devices().events(id, pageSize, bookmark));
});
