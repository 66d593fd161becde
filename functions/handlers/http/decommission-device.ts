import { devices } from '../../shared/compose/devices';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { deviceIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const device = await devices().decommission(deviceIdOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
