/**
 * Lamassu `DELETE /v1/devices/{id}`: hard delete of a DECOMMISSIONED device (204), 422 `device
 * status does not allow this operation` otherwise, 404 `device not found`. One `device.delete` event.
 */
import { deletion } from '../../composition/deletion';
import { lamassuHandler } from '../http';
import { deviceIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) => {
  await deletion().remove(deviceIdOf(request));
  return { statusCode: 204 };
});
