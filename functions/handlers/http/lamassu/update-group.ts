/** Lamassu `PUT /v1/device-groups/{id}`: replaces name, description, parent and criteria. */
import { groups } from '../../../shared/compose/groups';
import { ifMatchOf, ok } from '../../../shared/http';
import { groupInputOf } from '../../../shared/lamassu/bodies';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { toLamassuGroup } from '../../../shared/lamassu/model';
import { groupIdOf } from '../../../shared/params';

export const handler = lamassuHandler({ accepts: ['application/json'] }, async (request) => {
  const id = groupIdOf(request);
  const group = await groups().replace(id, groupInputOf(request.body, false), ifMatchOf(request));
  return ok(toLamassuGroup(group), group.version);
});
