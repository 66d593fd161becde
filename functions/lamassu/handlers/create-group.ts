/** Lamassu `POST /v1/device-groups` with its operand names (`contains`, `equal`, ...). */
import { groups } from '../../composition/groups';
import { groupInputOf } from '../bodies';
import { lamassuHandler } from '../http';
import { toLamassuGroup } from '../model';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const group = await groups().create(groupInputOf(request.body, true));
  return { statusCode: 201, body: toLamassuGroup(group), version: group.version };
});
