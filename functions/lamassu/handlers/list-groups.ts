/**
 * Lamassu `GET /v1/device-groups`. Lamassu's controller names the bookmark `next_bookmark` while its
 * SDK reads `next`: both are sent.
 */
import { groups } from '../../composition/groups';
import { ok } from '../../http/http';
import { lamassuHandler } from '../http';
import { toLamassuGroup } from '../model';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/query';

export const handler = lamassuHandler({}, async (request) => {
  const size = Number.parseInt(request.query.get('page_size') ?? '', 10);
  const pageSize = Number.isFinite(size) && size > 0 ? Math.min(size, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  const page = await groups().list(pageSize, request.query.get('bookmark') || undefined);
  return ok({ next: page.next, next_bookmark: page.next, list: page.list.map(toLamassuGroup) });
});
