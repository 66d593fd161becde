import { deviceReads } from '../../shared/compose/device-reads';
import { httpHandler, okPage } from '../../shared/http';
import { parseListQuery } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) =>
  okPage(await deviceReads().list(parseListQuery(request.query))),
);
