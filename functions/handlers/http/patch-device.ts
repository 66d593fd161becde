import { JSON_PATCH, MERGE_PATCH } from '../../domain/patch';
import { devices } from '../../composition/devices';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({ accepts: [MERGE_PATCH, JSON_PATCH] }, async (request) => {
  const device = await devices().patch(deviceIdOf(request), request.mediaType!, request.body, ifMatchOf(request));
  return ok(device, device.version);
});
