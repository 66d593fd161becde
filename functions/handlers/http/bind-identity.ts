import { parseCertificate } from '../../domain/certificate';
import { bindCertificateSchema } from '../../domain/schemas';
import { IDENTITY_SLOT } from '../../domain/slots';
import { devices } from '../../composition/devices';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { bodyOf } from '../../http/body';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const { certificate } = bodyOf(request, bindCertificateSchema);
  const device = await devices().bind(
    id,
    IDENTITY_SLOT,
    { type: 'x509', certificate: parseCertificate(certificate) },
    ifMatchOf(request),
  );
  return ok(device, device.version);
});
