import { devices } from '../../composition/devices';
import { httpHandler, ok } from '../../http/http';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const device = await devices().get(deviceIdOf(request));
  return ok(device, device.version);
});
