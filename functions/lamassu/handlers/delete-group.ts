/** Lamassu `DELETE /v1/device-groups/{id}` (204). A group with children is 409 unless `?cascade=true`. */
import { groups } from '../../composition/groups';
import { lamassuHandler } from '../http';
import { groupIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) => {
  await groups().remove(groupIdOf(request), { cascade: request.query.get('cascade') === 'true' });
  return { statusCode: 204 };
});
