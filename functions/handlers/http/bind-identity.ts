import { parseCertificate } from '../../domain/certificate';
import { bindCertificateSchema } from '../../domain/schemas';
import { IDENTITY_SLOT } from '../../domain/slots';
import { devices } from '../../shared/compose/devices';
import { httpHandler, ifMatchOf, ok } from '../../shared/http';
import { bodyOf } from '../../shared/body';
import { deviceIdOf } from '../../shared/params';

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
