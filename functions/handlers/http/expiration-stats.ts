import { parseForecastQuery } from '../../domain/insights';
import { services } from '../../shared/composition';
import { httpHandler, ok } from '../../shared/http';

export const handler = httpHandler({}, async (request) => ok(await services().insights.expirations(parseForecastQuery(request.query))));
