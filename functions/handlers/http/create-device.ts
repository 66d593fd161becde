import { ValidationError } from '../../domain/errors';
import { createDeviceSchema, problemsOf } from '../../domain/schemas';
import type { JsonValue } from '../../domain/device';
import { services } from '../../shared/composition';
import { httpHandler } from '../../shared/http';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const parsed = createDeviceSchema.safeParse(request.body);
  if (!parsed.success) throw new ValidationError('invalid device', problemsOf(parsed.error));
  const device = await services().devices.register({ ...parsed.data, metadata: parsed.data.metadata as Record<string, JsonValue> | undefined });
  return { statusCode: 201, body: device, version: device.version, headers: { location: `/v2/devices/${encodeURIComponent(device.id)}` } };
});
