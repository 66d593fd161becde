/** Lamassu `DELETE /v1/devices/{id}/decommission`: our decommission (idempotent), Lamassu's device back. */
import { devices } from '../../composition/devices';
import { ifMatchOf } from '../../http/http';
import { deviceResult, lamassuHandler } from '../http';
import { deviceIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) =>
  deviceResult(await devices().decommission(deviceIdOf(request), ifMatchOf(request))),
);
