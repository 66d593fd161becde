/** Lamassu `GET /v1/devices/dms/{id}`: the devices of one DMS, same query syntax as the list. */
import { deviceReads } from '../../composition/device-reads';
import { ok } from '../../http/http';
import { lamassuHandler, listDeps } from '../http';
import { lamassuList } from '../query';
import { dmsIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) => {
  const dms = dmsIdOf(request);
  return ok(
    await lamassuList(
      request.query,
      listDeps((q) => deviceReads().list(q), [{ field: 'dms_owner', operand: 'eq', value: dms }]),
    ),
  );
});
