import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { dmsIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const policy = await services().dms.get(dmsIdOf(request));
  return ok(policy, policy.version);
});
