/**
 * Lamassu `DELETE /v1/devices/{id}`: hard delete of a DECOMMISSIONED device (204), 422 `device
 * status does not allow this operation` otherwise, 404 `device not found`. One `device.delete` event.
 */
import { services } from '../../../shared/composition';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { deviceIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => {
  await services().deletion.remove(deviceIdOf(request));
  return { statusCode: 204 };
});
