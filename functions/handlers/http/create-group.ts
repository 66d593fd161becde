import { ValidationError } from '../../domain/errors';
import { createGroupSchema, groupProblemsOf } from '../../domain/schemas';
import { services } from '../../shared/composition';
import { httpHandler } from '../../shared/http';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const parsed = createGroupSchema.safeParse(request.body);
  if (!parsed.success) throw new ValidationError('invalid device group', groupProblemsOf(parsed.error));
  const group = await services().groups.create(parsed.data);
  return { statusCode: 201, body: group, version: group.version, headers: { location: `/v2/device-groups/${encodeURIComponent(group.id)}` } };
});
