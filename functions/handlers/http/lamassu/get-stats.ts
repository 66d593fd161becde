/** Lamassu `GET /v1/stats`: `{total, status_distribution}` of the devices matching its filters. */
import { services } from '../../../shared/composition';
import { ok } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuStats } from '../../../shared/lamassu/query';

export const handler = lamassuHandler({}, async (request) => {
  const { devices } = services();
  return ok(await lamassuStats(request.query, { ...listDeps((q) => devices.list(q)), stats: (filters) => devices.statsOfMatching(filters) }));
});
