import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';
import { parseListQuery } from '../../shared/list-query';

export const handler = httpHandler({}, async (request) => ok(await services().devices.list(parseListQuery(request.query))));
