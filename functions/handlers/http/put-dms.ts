import { putPolicySchema } from '../../domain/schemas';
import { services } from '../../shared/composition';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { bodyOf, dmsIdOf } from '../../shared/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = dmsIdOf(request);
  const policy = await services().dms.put(id, bodyOf(request, putPolicySchema), ifMatchOf(request));
  return ok(policy, policy.version);
});
