import { groups } from '../../composition/groups';
import { httpHandler, ok } from '../../http/http';
import { groupIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const group = await groups().get(groupIdOf(request));
  return ok(group, group.version);
});
