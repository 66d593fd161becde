/** Lamassu `DELETE /v1/devices/{id}/decommission`: our decommission (idempotent), Lamassu's device back. */
import { services } from '../../../shared/composition';
import { ifMatchOf } from '../../../shared/http';
import { deviceResult, lamassuHandler } from '../../../shared/lamassu/http';
import { deviceIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => deviceResult(await services().devices.decommission(deviceIdOf(request), ifMatchOf(request))));
