/** Lamassu `GET /v1/devices`: its query syntax and paging over the device list. */
import { deviceReads } from '../../composition/device-reads';
import { ok } from '../../http/http';
import { lamassuHandler, listDeps } from '../http';
import { lamassuList } from '../query';

export const handler = lamassuHandler({}, async (request) =>
  ok(
    await lamassuList(
      request.query,
      listDeps((q) => deviceReads().list(q)),
    ),
  ),
);
