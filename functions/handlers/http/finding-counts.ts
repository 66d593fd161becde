import { posture } from '../../composition/posture';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async () => ok(await posture().openCounts()));
