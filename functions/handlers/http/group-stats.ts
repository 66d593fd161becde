import { groups } from '../../shared/compose/groups';
import { httpHandler, ok } from '../../shared/http';
import { parseFilters } from '../../shared/list-query';
import { groupIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return ok(await groups().stats(id, parseFilters(request.query)));
});
