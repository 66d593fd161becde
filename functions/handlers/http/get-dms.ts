import { dms } from '../../shared/compose/policies';
import { httpHandler, ok } from '../../shared/http';
import { dmsIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const policy = await dms().get(dmsIdOf(request));
  return ok(policy, policy.version);
});
