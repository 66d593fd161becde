/** Lamassu `DELETE /v1/devices/{id}/decommission`: our decommission (idempotent), Lamassu's device back. */
import { devices } from '../../../shared/compose/devices';
import { ifMatchOf } from '../../../shared/http';
import { deviceResult, lamassuHandler } from '../../../shared/lamassu/http';
import { deviceIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) =>
  deviceResult(await devices().decommission(deviceIdOf(request), ifMatchOf(request))),
);
