import { posturePolicySchema } from '../../domain/posture';
import { posture } from '../../composition/posture';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { bodyOf } from '../../http/body';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const policy = await posture().putPolicy(bodyOf(request, posturePolicySchema), ifMatchOf(request));
  return ok(policy, policy.version);
});
