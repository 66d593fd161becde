import { groups } from '../../composition/groups';
import { httpHandler, ok } from '../../http/http';
import { parseListQuery } from '../../http/list-query';
import { groupIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return ok(await groups().members(id, parseListQuery(request.query)));
});
