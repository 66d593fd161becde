/** Lamassu `GET /v1/devices`: its query syntax and paging over the device list. */
import { deviceReads } from '../../../shared/compose/device-reads';
import { okPage } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuList } from '../../../shared/lamassu/query';

export const handler = lamassuHandler({}, async (request) =>
  okPage(
    await lamassuList(
      request.query,
      listDeps((q) => deviceReads().list(q)),
    ),
  ),
);
