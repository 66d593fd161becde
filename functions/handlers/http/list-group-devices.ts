import { groups } from '../../shared/compose/groups';
import { httpHandler, okPage } from '../../shared/http';
import { parseListQuery } from '../../shared/list-query';
import { groupIdOf } from '../../shared/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return okPage(await groups().members(id, parseListQuery(request.query)));
});
