import { devices } from '../../composition/devices';
import { httpHandler, ok } from '../../http/http';
import { parseFilters } from '../../http/list-query';

export const handler = httpHandler({}, async (request) => ok(await devices().stats(parseFilters(request.query))));
