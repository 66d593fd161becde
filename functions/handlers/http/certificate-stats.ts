import { parseInventoryQuery } from '../../domain/inventory';
import { insights } from '../../composition/insights';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async (request) =>
  ok(await insights().certificateInventory(parseInventoryQuery(request.query))),
);
