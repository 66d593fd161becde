/** Lamassu `GET /v1/device-groups/{id}`. */
import { groups } from '../../../shared/compose/groups';
import { ok } from '../../../shared/http';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { toLamassuGroup } from '../../../shared/lamassu/model';
import { groupIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => {
  const group = await groups().get(groupIdOf(request));
  return ok(toLamassuGroup(group), group.version);
});
