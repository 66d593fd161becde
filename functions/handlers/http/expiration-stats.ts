import { parseForecastQuery } from '../../domain/insights';
import { insights } from '../../composition/insights';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async (request) =>
  ok(await insights().expirations(parseForecastQuery(request.query))),
);
