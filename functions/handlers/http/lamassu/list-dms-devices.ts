/** Lamassu `GET /v1/devices/dms/{id}`: the devices of one DMS, same query syntax as the list. */
import { devices } from '../../../shared/compose/devices';
import { ok } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuList } from '../../../shared/lamassu/query';
import { dmsIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => {
  const dms = dmsIdOf(request);
  return ok(await lamassuList(request.query, listDeps((q) => devices().list(q), [{ field: 'dms_owner', operand: 'eq', value: dms }])));
});
