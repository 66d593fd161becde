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
import {
  CROWDED_SLICE_DEVICES,
  deviceBytes,
  READ_SLICE_DEVICES,
} from '../../../functions/adapters/dynamodb/list-cursor';
import { hasJsonText, pageJsonText } from '../../../functions/domain/json-text';
import { DEFAULT_LIST_BYTE_BUDGET, DEVICE_PAGE_WEIGHT, pageWeight } from '../../../functions/domain/query';

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

it("a page's devices carry their stored JSON text: the page joined from them is its serialization", async () => {
  const page = await repo().list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 5 });
  expect(page.list.length).toBe(5);
  expect(page.list.every(hasJsonText)).toBe(true);
  expect(pageJsonText(page)).toBe(JSON.stringify(page));
  // The budget counts those texts' bytes, without serializing again.
  expect(page.list.map(deviceBytes)).toEqual(page.list.map((d) => Buffer.byteLength(JSON.stringify(d))));
});

describe('long reads pause every READ_SLICE_DEVICES devices (cooperative turns)', () => {
  const fleet = Math.floor(2.3 * READ_SLICE_DEVICES);
  let big: TestTable;
  // A byte budget the whole fleet fits in (the default ends a page of these devices earlier: below).
  const bigRepo = (pauses: { n: number }, crowded?: () => boolean, listByteBudget = 5_000_000, heavy?: () => boolean) =>
    deviceRepository({
      client: big.documentClient,
      tableName: big.tableName,
      listShards: 2,
      statsShards: 2,
      bookmarks: bookmarkCodec('k'),
      turns: () => async () => void pauses.n++,
      crowded,
      listByteBudget,
      heavy,
    });
  beforeAll(async () => {
    big = await freshTable(engine);
    const service = deviceService({
      devices: bigRepo({ n: 0 }),
      policies: policyRepository({
        client: big.documentClient,
        tableName: big.tableName,
        bookmarks: bookmarkCodec('k'),
      }),
      clock: testClock(),
      newId: randomUUID,
    });
    for (let i = 0; i < fleet; i += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, fleet - i) }, (_, j) =>
          service.register({
            id: `b-${String(i + j).padStart(4, '0')}`,
            dms_id: 'dms',
            tags: [],
            metadata: { n: i + j },
          }),
        ),
      );
  }, 120_000);

  it('a list page of all of them pauses twice, a small page never', async () => {
    const pauses = { n: 0 };
    const page = await bigRepo(pauses).list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1000 });
    expect(page.list.length).toBe(fleet);
    expect(pauses.n).toBe(Math.floor(fleet / READ_SLICE_DEVICES));
    const small = { n: 0 };
    await bigRepo(small).list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 25 });
    expect(small.n).toBe(0);
  });

  it('while other requests are in flight, a read past its first slice pauses every CROWDED_SLICE_DEVICES', async () => {
    const pauses = { n: 0 };
    const page = await bigRepo(pauses, () => true).list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1000 });
    expect(page.list.length).toBe(fleet);
    expect(pauses.n).toBe(1 + Math.floor((fleet - READ_SLICE_DEVICES) / CROWDED_SLICE_DEVICES));
    // A small page never pauses, crowded or not.
    const small = { n: 0 };
    await bigRepo(small, () => true).list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 25 });
    expect(small.n).toBe(0);
  });

  it('the default byte budget ends a 1,000-device page of small devices by weight, reading few past it', async () => {
    const repository = bigRepo({ n: 0 }, undefined, DEFAULT_LIST_BYTE_BUDGET);
    const page = await repository.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1000 });
    const weight = page.list.reduce((sum, d) => sum + pageWeight(deviceBytes(d)), 0);
    // Full: the next device would have passed the budget; each device weighs its bytes and 4 KiB.
    expect(weight).toBeLessThanOrEqual(DEFAULT_LIST_BYTE_BUDGET);
    expect(weight + pageWeight(deviceBytes(page.list[0]!))).toBeGreaterThan(DEFAULT_LIST_BYTE_BUDGET);
    expect(page.list.length).toBeLessThanOrEqual(DEFAULT_LIST_BYTE_BUDGET / DEVICE_PAGE_WEIGHT);
    expect(page.next).not.toBe('');
    // Items read: one index chunk per shard (2) sized for what the budget lets a page hold, not for
    // 1,000, and the devices in slices, at most one slice past the page's end (not the whole fleet).
    const capacity = Math.floor(DEFAULT_LIST_BYTE_BUDGET / DEVICE_PAGE_WEIGHT);
    const indexItems = 2 * (Math.ceil((1.5 * capacity) / 2) + 1);
    expect(repository.itemsRead).toBeLessThanOrEqual(indexItems + page.list.length + READ_SLICE_DEVICES + 1);
    expect(repository.itemsRead).toBeLessThan(2 * fleet);
    // The next page goes on where it ended.
    const second = await repository.list({
      filters: [],
      sortBy: 'id',
      sortMode: 'asc',
      pageSize: 1000,
      bookmark: page.next,
    });
    expect(second.list[0]!.id > page.list.at(-1)!.id).toBe(true);
  });

  it('a heavy request (priorities on) reads in CROWDED_SLICE_DEVICES slices from its start, pausing', async () => {
    const pauses = { n: 0 };
    const repository = bigRepo(
      pauses,
      () => false,
      5_000_000,
      () => true,
    );
    const page = await repository.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1000 });
    expect(page.list.length).toBe(fleet);
    expect(pauses.n).toBe(Math.floor(fleet / CROWDED_SLICE_DEVICES));
    // Each device once from the index and once from the table: the smaller slices read nothing twice.
    expect(repository.itemsRead).toBe(2 * fleet);
  });

  it('statistics that read every device pause between slices', async () => {
    const pauses = { n: 0 };
    expect((await bigRepo(pauses).stats([f('metadata.n[ge]0')])).total).toBe(fleet);
    expect(pauses.n).toBeGreaterThanOrEqual(Math.floor(fleet / READ_SLICE_DEVICES));
    expect(pauses.n).toBeLessThanOrEqual(Math.ceil(fleet / READ_SLICE_DEVICES));
  });
});
