import { deviceReads } from '../../composition/device-reads';
import { httpHandler, ok } from '../../http/http';
import { parseListQuery } from '../../http/list-query';

export const handler = httpHandler({}, async (request) => ok(await deviceReads().list(parseListQuery(request.query))));
