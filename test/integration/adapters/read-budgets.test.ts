/**
 * The repository's byte and time budgets on the embedded engine: a list page ends early at its
 * byte budget (and resumes without loss), and statistics no counter serves stop at the bytes of
 * devices read or at the time budget (an injected clock: nothing here is timed).
 */
import { randomUUID } from 'node:crypto';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository, type DeviceRepositoryOptions } from '../../../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../../functions/app/devices';
import { QueryTooBroadError } from '../../../functions/domain/errors';
import { compileCriterion, splitFilterParam, type Filter } from '../../../functions/domain/filters';
import type { Engine } from '@device-manager/local-engine';
import { freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';
import { bulkyMetadata } from '../../support/hostile';

let engine: Engine;
let table: TestTable;
const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;
const repo = (options: Partial<DeviceRepositoryOptions> = {}) =>
  deviceRepository({
    client: table.documentClient,
    tableName: table.tableName,
    listShards: 2,
    statsShards: 2,
    bookmarks: bookmarkCodec('k'),
    ...options,
  });

beforeAll(async () => {
  engine = await startTestEngine();
  table = await freshTable(engine);
  const repository = repo();
  const service = deviceService({
    devices: repository,
    policies: policyRepository({
      client: table.documentClient,
      tableName: table.tableName,
      bookmarks: bookmarkCodec('k'),
    }),
    clock: testClock(),
    newId: randomUUID,
  });
  for (let i = 0; i < 24; i++)
    await service.register({
      id: `d-${String(i).padStart(2, '0')}`,
      dms_id: 'dms',
      tags: [],
      metadata: bulkyMetadata(10_000, { n: i }),
    });
}, 60_000);
afterAll(async () => {
  await engine.stop();
});

it('a page ends before its devices pass the byte budget and the next one resumes after it', async () => {
  const repository = repo({ listByteBudget: 50_000 });
  const ids: string[] = [];
  let bookmark: string | undefined;
  let pages = 0;
  do {
    const page = await repository.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1000, bookmark });
    expect(page.list.reduce((n, d) => n + Buffer.byteLength(JSON.stringify(d)), 0)).toBeLessThanOrEqual(50_000);
    ids.push(...page.list.map((d) => d.id));
    bookmark = page.next || undefined;
    pages++;
  } while (bookmark);
  expect(ids).toEqual(Array.from({ length: 24 }, (_, i) => `d-${String(i).padStart(2, '0')}`));
  expect(pages).toBeGreaterThanOrEqual(5);
});

it('a caller filling the rest of its page may get an empty page with a position', async () => {
  const page = await repo().list({
    filters: [],
    sortBy: 'id',
    sortMode: 'asc',
    pageSize: 10,
    maxBytes: 5000,
    bookmark: (await repo().list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1 })).next,
  });
  expect(page.list).toEqual([]);
  const resumed = await repo().list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1, bookmark: page.next });
  expect(resumed.list.map((d) => d.id)).toEqual(['d-01']);
});

it('statistics stop at the bytes of devices read', async () => {
  await expect(repo({ statsReadByteBudget: 100_000 }).stats([f('metadata.n[ge]0')])).rejects.toBeInstanceOf(
    QueryTooBroadError,
  );
  expect((await repo({ statsReadByteBudget: 1_000_000 }).stats([f('metadata.n[ge]0')])).total).toBe(24);
});

it('statistics stop at the time budget', async () => {
  let t = 0;
  // Every reading of the clock moves it 1,000 ms: the walk passes its budget at its second step.
  const repository = repo({ timeBudgetMs: 1000, now: () => (t += 1000) });
  await expect(repository.stats([f('metadata.n[ge]0')])).rejects.toThrow(/time budget/);
  expect((await repo({ timeBudgetMs: 100_000, now: () => (t += 1000) }).stats([f('metadata.n[ge]0')])).total).toBe(24);
});
