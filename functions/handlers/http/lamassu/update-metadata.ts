/** Lamassu `PUT|PATCH /v1/devices/{id}/metadata` with `{"patches": [{op, path, value}]}` on the metadata. */
import { devices as deviceUseCases } from '../../../shared/compose/devices';
import { ifMatchOf } from '../../../shared/http';
import { metadataPatchOf } from '../../../shared/lamassu/bodies';
import { deviceResult, lamassuHandler } from '../../../shared/lamassu/http';
import { deviceIdOf } from '../../../shared/params';

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
