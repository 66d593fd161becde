import { devices } from '../../shared/compose/devices';
import { httpHandler, ok } from '../../shared/http';
import { deviceIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const device = await devices().get(deviceIdOf(request));
  return ok(device, device.version);
});
