import { registerCaSchema } from '../../domain/ca-registration-schema';
import { iotCa } from '../../composition/iot-ca-composition';
import { httpHandler } from '../../http/http';
import { bodyOf } from '../../http/body';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const registered = await iotCa().register(bodyOf(request, registerCaSchema));
  return { statusCode: 201, body: registered };
});
