import { devices } from '../../shared/compose/devices';
import { httpHandler, ok } from '../../shared/http';
import { parseFilters } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) => ok(await devices().stats(parseFilters(request.query))));
