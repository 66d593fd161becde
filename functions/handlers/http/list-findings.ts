import { ValidationError } from '../../domain/errors';
import { posture } from '../../composition/posture';
import { httpHandler, ok } from '../../http/http';
import { parsePaging } from '../../http/list-query';

export const handler = httpHandler({}, async (request) => {
  const { pageSize, bookmark, problems } = parsePaging(request.query);
  if (problems.length > 0) throw new ValidationError('invalid list parameters', problems);
  return ok(await posture().findings(request.pathParameters.check ?? '', pageSize, bookmark));
});
