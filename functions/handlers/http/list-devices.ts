import { devices } from '../../shared/compose/devices';
import { httpHandler, ok } from '../../shared/http';
import { parseListQuery } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) => ok(await devices().list(parseListQuery(request.query))));
