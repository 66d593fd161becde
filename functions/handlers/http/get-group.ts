import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { groupIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const group = await services().groups.get(groupIdOf(request));
  return ok(group, group.version);
});
