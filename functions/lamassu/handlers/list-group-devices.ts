/** Lamassu `GET /v1/device-groups/{id}/devices`: members, with Lamassu's query syntax and paging. */
import { groups as groupUseCases } from '../../composition/groups';
import { ok } from '../../http/http';
import { lamassuHandler, listDeps } from '../http';
import { lamassuList } from '../query';
import { groupIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) => {
  const id = groupIdOf(request);
  const groups = groupUseCases();
  await groups.get(id); // an unknown group is a 404 even when the query is a bookmark
  return ok(
    await lamassuList(
      request.query,
      listDeps((q) => groups.members(id, q)),
    ),
  );
});
