import { insights } from '../../composition/insights';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async () => ok(await insights().connectivity()));
