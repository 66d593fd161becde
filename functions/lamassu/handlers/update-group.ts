/** Lamassu `PUT /v1/device-groups/{id}`: replaces name, description, parent and criteria. */
import { groups } from '../../composition/groups';
import { ifMatchOf, ok } from '../../http/http';
import { groupInputOf } from '../bodies';
import { lamassuHandler } from '../http';
import { toLamassuGroup } from '../model';
import { groupIdOf } from '../../http/params';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const id = groupIdOf(request);
  const group = await groups().replace(id, groupInputOf(request.body, false), ifMatchOf(request));
  return ok(toLamassuGroup(group), group.version);
});
