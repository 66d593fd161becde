import { groups } from '../../composition/groups';
import { httpHandler, ok } from '../../http/http';
import { parseFilters } from '../../http/list-query';
import { groupIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return ok(await groups().stats(id, parseFilters(request.query)));
});
