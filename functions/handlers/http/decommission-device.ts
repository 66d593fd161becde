import { devices } from '../../composition/devices';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const device = await devices().decommission(deviceIdOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
