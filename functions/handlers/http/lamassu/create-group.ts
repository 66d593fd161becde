/** Lamassu `POST /v1/device-groups` with its operand names (`contains`, `equal`, ...). */
import { groups } from '../../../shared/compose/groups';
import { groupInputOf } from '../../../shared/lamassu/bodies';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { toLamassuGroup } from '../../../shared/lamassu/model';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const group = await groups().create(groupInputOf(request.body, true));
  return { statusCode: 201, body: toLamassuGroup(group), version: group.version };
});
