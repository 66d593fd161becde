import { ValidationError } from '../../domain/errors';
import { groups } from '../../composition/groups';
import { httpHandler, ifMatchOf } from '../../http/http';
import { groupIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  const cascade = request.query.get('cascade');
  if (cascade !== null && cascade !== 'true' && cascade !== 'false')
    throw new ValidationError('invalid cascade', [{ field: 'cascade', problem: 'must be true or false' }]);
  await groups().remove(id, { cascade: cascade === 'true', ifMatch: ifMatchOf(request) });
  return { statusCode: 204 };
});
