import { ValidationError } from '../../domain/errors';
import { groupProblemsOf, replaceGroupSchema } from '../../domain/schemas';
import { groups } from '../../composition/groups';
import { httpHandler, ifMatchOf, ok } from '../../http/http';
import { groupIdOf } from '../../http/params';

export const handler = httpHandler({ accepts: ['application/json'] }, async (request) => {
  const id = groupIdOf(request);
  const parsed = replaceGroupSchema.safeParse(request.body);
  if (!parsed.success) throw new ValidationError('invalid device group', groupProblemsOf(parsed.error));
  if (parsed.data.id !== undefined && parsed.data.id !== id)
    throw new ValidationError('a group id cannot change', [
      { field: 'id', problem: `must be the id in the path ('${id}') or omitted` },
    ]);
  const { name, description, parent_id, criteria } = parsed.data;
  const group = await groups().replace(id, { name, description, parent_id, criteria }, ifMatchOf(request));
  return ok(group, group.version);
});
