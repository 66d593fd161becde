import { jobs } from '../../composition/jobs';
import { httpHandler, ok } from '../../http/http';
import { jobIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => ok(await jobs().get(jobIdOf(request))));
