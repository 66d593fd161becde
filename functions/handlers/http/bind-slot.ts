import { parseCertificate, PRIVATE_KEY_PEM } from '../../domain/certificate';
import { ValidationError } from '../../domain/errors';
import { bindSlotSchema } from '../../domain/schemas';
import type { SlotMaterial } from '../../domain/slots';
import { devices } from '../../composition/devices';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { bodyOf } from '../../http/body';
import { deviceIdOf, slotNameOf } from '../../http/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const slot = slotNameOf(request);
  const body = bodyOf(request, bindSlotSchema);
  let material: SlotMaterial;
  if ('certificate' in body) material = { type: 'x509', certificate: parseCertificate(body.certificate) };
  else {
    // The secret is a reference (an ARN, a vault path, a fingerprint): a private key must never be stored.
    if (PRIVATE_KEY_PEM.test(body.secret))
      throw new ValidationError('a slot secret must not be a private key', [
        { field: 'secret', problem: 'looks like a PEM private key' },
      ]);
    material = {
      type: body.type,
      secret: body.secret,
      ...(body.expiration_date ? { expiration_date: new Date(body.expiration_date).toISOString() } : {}),
    };
  }
  const device = await devices().bind(id, slot, material, ifMatchOf(request));
  return ok(device, device.version);
});
