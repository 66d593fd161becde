import { putPolicySchema } from '../../domain/schemas';
import { dms } from '../../composition/policies';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { bodyOf } from '../../http/body';
import { dmsIdOf } from '../../http/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = dmsIdOf(request);
  const policy = await dms().put(id, bodyOf(request, putPolicySchema), ifMatchOf(request));
  return ok(policy, policy.version);
});
