import { ValidationError } from '../../domain/errors';
import { devices } from '../../shared/compose/devices';
import { httpHandler, ok } from '../../shared/http';
import { parsePaging } from '../../shared/list-query';
import { deviceIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const id = deviceIdOf(request);
  const { pageSize, bookmark, problems } = parsePaging(request.query);
  if (problems.length > 0) throw new ValidationError('invalid list parameters', problems);
  return ok(await devices().events(id, pageSize, bookmark));
});
