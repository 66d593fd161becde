import { ValidationError } from '../../domain/errors';
import { createGroupSchema, groupProblemsOf } from '../../domain/schemas';
import { groups } from '../../composition/groups';
import { httpHandler } from '../../http/http';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const parsed = createGroupSchema.safeParse(request.body);
  if (!parsed.success) throw new ValidationError('invalid device group', groupProblemsOf(parsed.error));
  const group = await groups().create(parsed.data);
  return {
    statusCode: 201,
    body: group,
    version: group.version,
    headers: { location: `/v2/device-groups/${encodeURIComponent(group.id)}` },
  };
});
