/** Lamassu `GET /v1/stats`: `{total, status_distribution}` of the devices matching its filters. */
import { deviceReads } from '../../../shared/compose/device-reads';
import { ok } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuStats } from '../../../shared/lamassu/query';

export const handler = lamassuHandler({}, async (request) => {
  const devices = deviceReads();
  return ok(
    await lamassuStats(request.query, {
      ...listDeps((q) => devices.list(q)),
      stats: (filters) => devices.statsOfMatching(filters),
    }),
  );
});
