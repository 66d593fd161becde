/**
 * docs/api.md, Limits and edges: blind writers (no If-Match) to one resource are all applied, at least 50 at once;
 * lost version races back off with jitter instead of failing with 503.
 */
import type { LocalService } from '../../local/main';
import { call, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  // The default bound (6 s) is sized for DynamoDB in AWS; this shared, noisy machine gets a bound no
  // load reaches, so the test shows the mechanism: backoff with jitter applies every writer, where
  // the former 10 immediate retries failed 34 of 50 however long they were given.
  service = await startTestService({ VERSION_RETRY_SECONDS: '45' });
});
afterAll(async () => {
  await service.stop();
});

const WRITERS = 50;

it(`${WRITERS} concurrent blind PATCHes of one device are all applied`, async () => {
  expect((await call(service.url, 'POST', '/v2/devices', { id: 'hot', dms_id: 'dms-1' })).status).toBe(201);
  const replies = await Promise.all(
    Array.from({ length: WRITERS }, (_, i) =>
      call(
        service.url,
        'PATCH',
        '/v2/devices/hot',
        { metadata: { [`w${i}`]: i } },
        { 'content-type': 'application/merge-patch+json' },
      ),
    ),
  );
  expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
  const device = (await call(service.url, 'GET', '/v2/devices/hot')).body;
  expect(device.version).toBe(1 + WRITERS);
  expect(device.metadata).toEqual(Object.fromEntries(Array.from({ length: WRITERS }, (_, i) => [`w${i}`, i])));
  const events = await call(service.url, 'GET', '/v2/devices/hot/events?page_size=1000');
  expect(events.body.list.filter((e: { type: string }) => e.type === 'SHADOW-UPDATED')).toHaveLength(WRITERS);
}, 120_000);

it('20 concurrent blind PUTs of one group are all applied', async () => {
  const body = (i: number) => ({ name: `group ${i}`, criteria: [{ field: 'tags', operand: 'ct', value: `t${i}` }] });
  expect((await call(service.url, 'POST', '/v2/device-groups', { id: 'hot-group', ...body(-1) })).status).toBe(201);
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => call(service.url, 'PUT', '/v2/device-groups/hot-group', body(i))),
  );
  expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
  expect((await call(service.url, 'GET', '/v2/device-groups/hot-group')).body.version).toBe(21);
}, 60_000);
