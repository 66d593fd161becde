import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { parseFilters } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) => ok(await services().devices.stats(parseFilters(request.query))));
