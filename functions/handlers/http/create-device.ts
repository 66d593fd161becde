import { ValidationError } from '../../domain/errors';
import { createDeviceSchema, problemsOf } from '../../domain/schemas';
import type { JsonValue } from '../../domain/device';
import { devices } from '../../composition/devices';
import { httpHandler } from '../../http/http';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const parsed = createDeviceSchema.safeParse(request.body);
  if (!parsed.success) throw new ValidationError('invalid device', problemsOf(parsed.error));
  // The validated metadata itself: zod's copy would drop an own `__proto__` key.
  const { metadata } = request.body as { metadata?: Record<string, JsonValue> };
  const device = await devices().register({ ...parsed.data, metadata });
  return {
    statusCode: 201,
    body: device,
    version: device.version,
    headers: { location: `/v2/devices/${encodeURIComponent(device.id)}` },
  };
});
