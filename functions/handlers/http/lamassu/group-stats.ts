/** Lamassu `GET /v1/device-groups/{id}/stats`: `{total, status_distribution}` of the members. */
import { services } from '../../../shared/composition';
import { ok } from '../../../shared/http';
import { lamassuHandler } from '../../../shared/lamassu/http';
import { groupIdOf } from '../../../shared/params';

export const handler = lamassuHandler({}, async (request) => ok(await services().groups.stats(groupIdOf(request))));
