import { putPolicySchema } from '../../domain/schemas';
import { dms } from '../../shared/compose/policies';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { bodyOf } from '../../shared/body';
import { dmsIdOf } from '../../shared/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = dmsIdOf(request);
  const policy = await dms().put(id, bodyOf(request, putPolicySchema), ifMatchOf(request));
  return ok(policy, policy.version);
});
