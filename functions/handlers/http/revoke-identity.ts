import { IDENTITY_SLOT } from '../../domain/slots';
import { devices } from '../../composition/devices';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { reasonOf } from '../../http/body';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const device = await devices().revoke(id, IDENTITY_SLOT, reasonOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
