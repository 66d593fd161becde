import { iotCa } from '../../composition/iot-ca-composition';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async () => ok(await iotCa().registrationCode()));
