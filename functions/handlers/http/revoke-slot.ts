import { devices } from '../../shared/compose/devices';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { reasonOf } from '../../shared/body';
import { deviceIdOf, slotNameOf } from '../../shared/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const slot = slotNameOf(request);
  const device = await devices().revoke(id, slot, reasonOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
