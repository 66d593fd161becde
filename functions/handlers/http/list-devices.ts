import { deviceReads } from '../../shared/compose/device-reads';
import { httpHandler, ok } from '../../shared/http';
import { parseListQuery } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) => ok(await deviceReads().list(parseListQuery(request.query))));
