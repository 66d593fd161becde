/** Lamassu `GET /v1/stats`: `{total, status_distribution}` of the devices matching its filters. */
import { deviceReads } from '../../composition/device-reads';
import { ok } from '../../http/http';
import { lamassuHandler, listDeps } from '../http';
import { lamassuStats } from '../query';

export const handler = lamassuHandler({}, async (request) => {
  const devices = deviceReads();
  return ok(
    await lamassuStats(request.query, {
      ...listDeps((q) => devices.list(q)),
      stats: (filters) => devices.statsOfMatching(filters),
    }),
  );
});
