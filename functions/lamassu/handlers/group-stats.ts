/** Lamassu `GET /v1/device-groups/{id}/stats`: `{total, status_distribution}` of the members. */
import { groups } from '../../composition/groups';
import { ok } from '../../http/http';
import { lamassuHandler } from '../http';
import { groupIdOf } from '../../http/params';

export const handler = lamassuHandler({}, async (request) => ok(await groups().stats(groupIdOf(request))));
