/** Lamassu `GET /v1/devices`: its query syntax and paging over the device list. */
import { devices } from '../../../shared/compose/devices';
import { ok } from '../../../shared/http';
import { lamassuHandler, listDeps } from '../../../shared/lamassu/http';
import { lamassuList } from '../../../shared/lamassu/query';

export const handler = lamassuHandler({}, async (request) => ok(await lamassuList(request.query, listDeps((q) => devices().list(q)))));
