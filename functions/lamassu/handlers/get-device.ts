/**
 * Lamassu `GET /v1/devices/{id}`. An unknown device is 400 `device not found`: Lamassu's SDK maps
 * exactly that to ErrDeviceNotFound, on which its RA registers the device just in time.
 */
import { devices } from '../../composition/devices';
import { deviceResult, lamassuHandler } from '../http';
import { deviceIdOf } from '../../http/params';

export const handler = lamassuHandler({ deviceNotFoundStatus: 400 }, async (request) =>
  deviceResult(await devices().get(deviceIdOf(request))),
);
