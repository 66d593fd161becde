import { groups } from '../../shared/compose/groups';
import { httpHandler, ok } from '../../shared/http';
import { groupIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const group = await groups().get(groupIdOf(request));
  return ok(group, group.version);
});
