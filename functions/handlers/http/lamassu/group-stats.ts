/** Lamassu `GET /v1/device-groups/{id}/stats`: `{total, status_distribution}` of the members. */
import { groups } from '../../../shared/compose/groups';
import { ok } from '../../../shared/http';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { groupIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => ok(await groups().stats(groupIdOf(request))));
