/** Lamassu `GET /v1/stats`: `{total, status_distribution}` of the devices matching its filters. */
import { devices as deviceUseCases } from '../../../shared/compose/devices';
import { ok } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuStats } from '../../../shared/lamassu/query';

export const handler = lamassuHandler({}, async (request) => {
  const devices = deviceUseCases();
  return ok(await lamassuStats(request.query, { ...listDeps((q) => devices.list(q)), stats: (filters) => devices.statsOfMatching(filters) }));
});
