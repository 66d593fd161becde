/** Lamassu `GET /v1/device-groups/{id}`. */
import { groups } from '../../composition/groups';
import { ok } from '../../http/http';
import { lamassuHandler } from '../http';
import { toLamassuGroup } from '../model';
import { groupIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) => {
  const group = await groups().get(groupIdOf(request));
  return ok(toLamassuGroup(group), group.version);
});
