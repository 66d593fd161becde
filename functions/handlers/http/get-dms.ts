import { dms } from '../../composition/policies';
import { httpHandler, ok } from '../../http/http';
import { dmsIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const policy = await dms().get(dmsIdOf(request));
  return ok(policy, policy.version);
});
