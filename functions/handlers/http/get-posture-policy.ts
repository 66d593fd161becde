import { posture } from '../../composition/posture';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async () => {
  const policy = await posture().getPolicy();
  return ok(policy, policy.version);
});
