import { groups } from '../../composition/groups';
import { httpHandler, okPage } from '../../http/http';
import { parseListQuery } from '../../http/list-query';
import { groupIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = groupIdOf(request);
  return okPage(await groups().members(id, parseListQuery(request.query)));
});
