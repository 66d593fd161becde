/** Lamassu `DELETE /v1/device-groups/{id}` (204). A group with children is 409 unless `?cascade=true`. */
import { groups } from '../../../shared/compose/groups';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { groupIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => {
  await groups().remove(groupIdOf(request), { cascade: request.query.get('cascade') === 'true' });
  return { statusCode: 204 };
});
