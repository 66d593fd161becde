import { parseForecastQuery } from '../../domain/insights';
import { insights } from '../../shared/compose/insights';
import { httpHandler, ok } from '../../shared/http';

export const handler = httpHandler({}, async (request) =>
  ok(await insights().expirations(parseForecastQuery(request.query))),
);
