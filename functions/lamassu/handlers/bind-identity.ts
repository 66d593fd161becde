/**
 * Lamassu `PUT /v1/devices/{id}/idslot` with its slot document (the RA's enroll and re-enroll): the
 * active version's serial is bound as a new version of our identity slot, with the PEM when the
 * caller adds `certificate`; the same serial again changes nothing (or revokes, if the document
 * says REVOKED).
 */
import { devices as deviceUseCases } from '../../composition/devices';
import { ifMatchOf } from '../../http/http';
import { identityChangeOf } from '../bodies';
import { deviceResult, lamassuHandler } from '../http';
import { IDENTITY_SLOT } from '../../domain/slots';
import { deviceIdOf } from '../../http/params';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const devices = deviceUseCases();
  const current = await devices.get(id);
  const change = identityChangeOf(request.body, current);
  const ifMatch = ifMatchOf(request);
  if (change.kind === 'none') return deviceResult(current);
  if (change.kind === 'revoke') return deviceResult(await devices.revoke(id, IDENTITY_SLOT, 'Unspecified', ifMatch));
  return deviceResult(await devices.bind(id, IDENTITY_SLOT, change.material, ifMatch));
});
