/**
 * docs/api.md, Limits and edges: bookmarks are signed with a key no one can derive (not the table name), and validated.
 */
import { bookmarkCodec } from '../../functions/adapters/dynamodb/bookmark';
import type { LocalService } from '../../local/main';
import { call, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service.stop();
});

it('a bookmark forged with the table name as key is a 400, not a 500', async () => {
  expect((await call(service.url, 'POST', '/v2/devices', { id: 'd1', dms_id: 'm' })).status).toBe(201);
  const forged = bookmarkCodec(`bookmark:${service.tableName}`).encode({ events: 'd1' }, 'x'.repeat(2000));
  const reply = await call(service.url, 'GET', `/v2/devices/d1/events?bookmark=${encodeURIComponent(forged)}`);
  expect(reply.status).toBe(400);
  expect(reply.body).toEqual({ err: expect.any(String), code: 'INVALID_BOOKMARK' });
  // Genuine bookmarks keep working.
  for (let i = 0; i < 3; i++)
    await call(
      service.url,
      'PATCH',
      '/v2/devices/d1',
      { metadata: { i } },
      { 'content-type': 'application/merge-patch+json' },
    );
  const first = await call(service.url, 'GET', '/v2/devices/d1/events?page_size=2');
  expect(first.body.next).not.toBe('');
  const second = await call(
    service.url,
    'GET',
    `/v2/devices/d1/events?page_size=2&bookmark=${encodeURIComponent(first.body.next)}`,
  );
  expect(second.status).toBe(200);
  expect(second.body.list).toHaveLength(2);
});
