/** Lamassu `PUT|PATCH /v1/devices/{id}/metadata` with `{"patches": [{op, path, value}]}` on the metadata. */
import { devices as deviceUseCases } from '../../composition/devices';
import { ifMatchOf } from '../../http/http';
import { metadataPatchOf } from '../bodies';
import { deviceResult, lamassuHandler } from '../http';
import { deviceIdOf } from '../../http/params';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const id = deviceIdOf(request);
  const patch = metadataPatchOf(request.body);
  const devices = deviceUseCases();
  const device =
    patch.length === 0
      ? await devices.get(id)
      : await devices.patch(id, 'application/json-patch+json', patch, ifMatchOf(request));
  return deviceResult(device);
});
