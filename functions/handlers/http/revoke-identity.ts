import { IDENTITY_SLOT } from '../../domain/slots';
import { devices } from '../../shared/compose/devices';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { reasonOf } from '../../shared/body';
import { deviceIdOf } from '../../shared/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const device = await devices().revoke(id, IDENTITY_SLOT, reasonOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
