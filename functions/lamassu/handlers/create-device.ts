/** Lamassu `POST /v1/devices` with its CreateDeviceBody (`alias`, `null` tags and metadata, `""` icons). */
import { devices } from '../../composition/devices';
import { deviceResult, lamassuHandler } from '../http';
import { newDeviceOf } from '../bodies';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const device = await devices().register(newDeviceOf(request.body));
  return {
    ...deviceResult(device, 201),
    headers: { location: `/api/devmanager/v1/devices/${encodeURIComponent(device.id)}` },
  };
});
