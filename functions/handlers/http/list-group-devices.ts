import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { parseListQuery } from '../../shared/list-query';
import { groupIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return ok(await services().groups.members(id, parseListQuery(request.query)));
});
