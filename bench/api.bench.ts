/**
 * `npm run bench`: the local service against the same DynamoDB operations issued directly with the
 * SDK on the same embedded engine, in one run. Prints p50/p99 and throughput at concurrency 1 and 16,
 * their ratios, stats latency at 1,000 versus 20,000 devices, and items read per list page.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { bookmarkCodec } from '../functions/adapters/dynamodb/bookmark';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { policyRepository } from '../functions/adapters/dynamodb/policy-repository';
import { deviceRepository } from '../functions/adapters/dynamodb/device-repository';
import { deviceKey, statsKey } from '../functions/adapters/dynamodb/keys';
import { INDEXES } from '../functions/adapters/dynamodb/schema';
import { deviceService } from '../functions/app/devices';
import { compileCriterion } from '../functions/domain/filters';
import { startLocalService } from '../local/main';
import { fmt, inParallel, measure, printTable, type Measurement } from './support';

const SMALL_FLEET = 1000;
const LARGE_FLEET = Number(process.env.BENCH_LARGE_FLEET ?? 20000);
const OPS = 400;

async function main() {
  const tableName = `bench-${randomUUID()}`;
  const service = await startLocalService({
    env: { IN_MEMORY: 'true', PORT: '0', TABLE_NAME: tableName, LIST_SHARDS: '4', STATS_SHARDS: '4' },
    quiet: true,
  });
  const raw = createDocumentClient({ endpoint: service.engine!.endpoint, region: 'us-east-1' });
  const repository = deviceRepository({
    client: raw,
    tableName,
    listShards: 4,
    statsShards: 4,
    bookmarks: bookmarkCodec('bench'),
  });
  const policies = policyRepository({ client: raw, tableName, bookmarks: bookmarkCodec('bench') });
  const seeder = deviceService({ devices: repository, policies, clock: { now: () => new Date() }, newId: randomUUID });
  // node:http with a keep-alive agent: fetch (undici) alone adds ~0.35 ms per call on loopback here,
  // which would measure the client rather than the service.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const { port } = new URL(service.url);
  const api = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            (res.statusCode ?? 500) >= 400 ? reject(new Error(`${res.statusCode} ${text}`)) : resolve(text),
          );
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });

  const seed = async (from: number, to: number) =>
    inParallel(
      Array.from({ length: to - from }, (_, i) => from + i),
      16,
      (n) =>
        seeder.register({
          id: `seed-${n}`,
          dms_id: `dms-${n % 10}`,
          tags: n % 40 === 0 ? ['bench-tag', `t${n % 7}`] : [`t${n % 7}`],
          metadata: { n },
        }),
    );

  console.log(`seeding ${SMALL_FLEET} devices…`);
  await seed(0, SMALL_FLEET);

  const rows: (string | number)[][] = [];
  const compare = (name: string, c: number, service: Measurement, direct: Measurement) =>
    rows.push([
      name,
      c,
      service.p50,
      service.p99,
      service.perSecond,
      direct.p50,
      direct.p99,
      direct.perSecond,
      `${fmt(service.p50 / direct.p50)}×`,
    ]);

  const body = (i: number, c: number) =>
    JSON.stringify({ id: `new-${c}-${i}`, dms_id: 'dms-bench', tags: ['fresh'], metadata: { i } });
  for (const c of [1, 16]) {
    const create = await measure(OPS, c, (i) =>
      api('/v2/devices', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i, c) }),
    );
    const put = await measure(OPS, c, (i) =>
      raw.send(new PutCommand({ TableName: tableName, Item: { pk: `RAW#${c}#${i}`, sk: 'RAW', doc: body(i, c) } })),
    );
    compare('create (POST vs PutItem)', c, create, put);
    const get = await measure(OPS, c, (i) => api(`/v2/devices/seed-${(i * 7) % SMALL_FLEET}`));
    const getItem = await measure(OPS, c, (i) =>
      raw.send(
        new GetCommand({ TableName: tableName, Key: deviceKey(`seed-${(i * 7) % SMALL_FLEET}`), ConsistentRead: true }),
      ),
    );
    compare('get (GET vs GetItem)', c, get, getItem);
    const list = await measure(OPS / 4, c, () => api('/v2/devices?filter=tags[ct]t3&page_size=25'));
    const query = await measure(OPS / 4, c, () =>
      raw.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEXES.byCreated.name,
          KeyConditionExpression: 'epk = :p',
          ExpressionAttributeValues: { ':p': 'TAG#t3#0' },
          Limit: 25,
        }),
      ),
    );
    compare('list by tag, page 25 (vs one Query)', c, list, query);
    const stats = await measure(OPS, c, () => api('/v2/stats/devices'));
    const batch = await measure(OPS, c, () =>
      raw.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: [0, 1, 2, 3].map((s) => statsKey('ALL', s)) } } }),
      ),
    );
    compare('stats (vs BatchGet of counters)', c, stats, batch);
  }
  printTable(
    'Local service versus direct SDK calls on the same engine (latency ms, throughput ops/s)',
    ['operation', 'conc.', 'svc p50', 'svc p99', 'svc ops/s', 'sdk p50', 'sdk p99', 'sdk ops/s', 'p50 ratio'],
    rows,
  );

  const statsSmall = await measure(OPS, 1, () => api('/v2/stats/devices'));
  console.log(`\nseeding up to ${LARGE_FLEET} devices…`);
  await seed(SMALL_FLEET, LARGE_FLEET);
  const statsLarge = await measure(OPS, 1, () => api('/v2/stats/devices'));

  const f = (p: string) => compileCriterion({ field: 'tags', operand: 'ct', value: p }, 'f').filter!;
  const pages: (string | number)[][] = [];
  for (const [name, filters] of [
    ['all devices', []],
    ['tag bench-tag', [f('bench-tag')]],
    ['tag t3', [f('t3')]],
  ] as const) {
    const before = repository.itemsRead;
    const page = await repository.list({
      filters: [...filters],
      sortBy: 'creation_timestamp',
      sortMode: 'asc',
      pageSize: 25,
    });
    const read = repository.itemsRead - before;
    pages.push([name, page.list.length, read, `${fmt(read / page.list.length)}×`]);
  }
  printTable('Items read per list page (target ≤ 2×)', ['entry point', 'returned', 'items read', 'ratio'], pages);
  printTable(
    'Stats latency by fleet size (counters: target ≤ 1.2×)',
    ['fleet', 'p50 ms', 'p99 ms'],
    [
      [SMALL_FLEET, statsSmall.p50, statsSmall.p99],
      [LARGE_FLEET, statsLarge.p50, statsLarge.p99],
      ['ratio', `${fmt(statsLarge.p50 / statsSmall.p50)}×`, `${fmt(statsLarge.p99 / statsSmall.p99)}×`],
    ],
  );
  const getRow = rows.find((r) => String(r[0]).startsWith('get') && r[1] === 1)!;
  console.log(`\nget p50 / GetItem p50 at concurrency 1: ${getRow[8]} (target ≤ 1.5×)`);
  raw.destroy();
  agent.destroy();
  await service.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
