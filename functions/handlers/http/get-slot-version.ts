import { ValidationError } from '../../domain/errors';
import type { SlotVersion } from '../../domain/slots';
import { devices } from '../../composition/devices';
import { httpHandler, ok } from '../../http/http';
import { deviceIdOf, slotNameOf } from '../../http/params';

/** The wire shape: certificate fields flattened beside the version's own. */
function presentVersion(v: SlotVersion) {
  const { certificate, device_id: _device, ca_reported_at: _reported, ...rest } = v;
  if (!certificate) return rest;
  const { pem, ...fields } = certificate;
  return { ...rest, certificate: pem, ...fields };
}

export const handler = httpHandler({}, async (request) => {
  const id = deviceIdOf(request);
  const slot = slotNameOf(request, true);
  const raw = request.pathParameters.n ?? '';
  if (!/^\d{1,6}$/.test(raw))
    throw new ValidationError('invalid version', [{ field: 'n', problem: 'must be a non-negative integer' }]);
  return ok(presentVersion(await devices().slotVersion(id, slot, Number(raw))));
});
