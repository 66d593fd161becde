import { DEFAULT_VALUE_LIMIT, MAX_VALUE_LIMIT } from '../../app/insights';
import { ValidationError } from '../../domain/errors';
import { insights } from '../../composition/insights';
import { httpHandler, ok } from '../../http/http';

export const handler = httpHandler({}, async (request) => {
  const raw = request.query.get('limit') ?? String(DEFAULT_VALUE_LIMIT);
  const limit = Number(raw);
  if (!/^\d{1,4}$/.test(raw) || limit < 1 || limit > MAX_VALUE_LIMIT)
    throw new ValidationError('invalid limit', [
      { field: 'limit', problem: `must be an integer from 1 to ${MAX_VALUE_LIMIT}` },
    ]);
  return ok(await insights().metadataDistribution(request.pathParameters.key ?? '', limit));
});
