/** Lamassu `GET /v1/devices/dms/{id}`: the devices of one DMS, same query syntax as the list. */
import { deviceReads } from '../../../shared/compose/device-reads';
import { okPage } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuList } from '../../../shared/lamassu/query';
import { dmsIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => {
  const dms = dmsIdOf(request);
  return okPage(
    await lamassuList(
      request.query,
      listDeps((q) => deviceReads().list(q), [{ field: 'dms_owner', operand: 'eq', value: dms }]),
    ),
  );
});
