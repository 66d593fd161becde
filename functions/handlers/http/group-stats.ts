import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { parseFilters } from '../../shared/list-query';
import { groupIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return ok(await services().groups.stats(id, parseFilters(request.query)));
});
