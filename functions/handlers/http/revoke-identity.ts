import { IDENTITY_SLOT } from '../../domain/slots';
import { services } from '../../shared/composition';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { deviceIdOf, reasonOf } from '../../shared/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const device = await services().devices.revoke(id, IDENTITY_SLOT, reasonOf(request), ifMatchOf(request));
  return ok(device, device.version);
});
