import { deviceReads } from '../../composition/device-reads';
import { httpHandler, okPage } from '../../http/http';
import { parseListQuery } from '../../http/list-query';

export const handler = httpHandler({}, async (request) =>
  okPage(await deviceReads().list(parseListQuery(request.query))),
);
