import { devices } from '../../composition/devices';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { reasonOf } from '../../http/body';
import { deviceIdOf, slotNameOf } from '../../http/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const slot = slotNameOf(request);
  const device = await devices().revoke(id, slot, reasonOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
