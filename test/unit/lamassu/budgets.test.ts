/**
 * The Lamassu list and statistics budgets over a fake v2 list (pure: no table): bytes per page,
 * the request's time budget (an injected clock, never a timed assertion) and JSONPath steps.
 */
import type { Page } from '../../../functions/app/ports';
import type { Device } from '../../../functions/domain/device';
import { QueryTooBroadError } from '../../../functions/domain/errors';
import type { DeviceListQuery } from '../../../functions/domain/query';
import { lamassuList, lamassuStats, type ListDeps } from '../../../functions/lamassu/query';
import { bulkyMetadata } from '../../support/hostile';

const device = (i: number, metadata: Record<string, unknown>): Device =>
  ({
    id: `d-${String(i).padStart(4, '0')}`,
    dms_owner: 'dms',
    status: 'ACTIVE',
    tags: [],
    metadata,
    icon: 'x',
    icon_color: '#000',
    creation_timestamp: '2026-01-01T00:00:00Z',
    slots: {},
    events: {},
    version: 1,
  }) as unknown as Device;

/** A v2 list over `devices` in id order, honouring page size and maxBytes like the repository. */
function fakeList(devices: Device[], calls: DeviceListQuery[]): ListDeps['list'] {
  return async (q): Promise<Page<Device>> => {
    calls.push(q);
    const start = q.bookmark ? Number(q.bookmark) : 0;
    const list: Device[] = [];
    let bytes = 0;
    let i = start;
    for (; i < devices.length && list.length < q.pageSize; i++) {
      const size = JSON.stringify(devices[i]).length;
      if (q.maxBytes !== undefined && bytes + size > q.maxBytes) break;
      bytes += size;
      list.push(devices[i]!);
    }
    return { list, next: i < devices.length ? String(i) : '' };
  };
}
const codec = {
  encode: (_: unknown, p: string) => Buffer.from(p).toString('base64url'),
  decode: (_: unknown, b: string) => Buffer.from(b, 'base64url').toString(),
};

it('a page ends early at the byte budget and the next page resumes where it stopped', async () => {
  const devices = Array.from({ length: 30 }, (_, i) => device(i, bulkyMetadata(11_000, { n: i })));
  const calls: DeviceListQuery[] = [];
  const deps: ListDeps = { list: fakeList(devices, calls), codec, readBudget: 2000, byteBudget: 50_000 };
  const seen: string[] = [];
  let params = new URLSearchParams({ page_size: '1000', filter: 'metadata[jsonpath]$.n >= 0', sort_by: 'id' });
  for (let pages = 0; pages < 20; pages++) {
    const page = await lamassuList(params, deps);
    expect(Buffer.byteLength(JSON.stringify(page.list))).toBeLessThanOrEqual(50_000 + 1000);
    seen.push(...page.list.map((d) => d.id));
    if (!page.next) break;
    params = new URLSearchParams({ bookmark: page.next });
  }
  expect(seen).toEqual(devices.map((d) => d.id));
  // Every read after the first asked only for the bytes still free on its page.
  expect(calls.every((c) => c.maxBytes !== undefined && c.maxBytes <= 50_000)).toBe(true);
});

it('statistics with a JSONPath filter stop at the time budget with 422 QUERY_TOO_BROAD', async () => {
  const devices = Array.from({ length: 5000 }, (_, i) => device(i, { n: i }));
  let t = 0;
  const calls: DeviceListQuery[] = [];
  // Each read of the fake list costs 1,000 ms on the injected clock.
  const list = fakeList(devices, calls);
  const deps = {
    list: async (q: DeviceListQuery) => ((t += 1000), list(q)),
    codec,
    readBudget: 100_000,
    timeBudgetMs: 2500,
    now: () => t,
    stats: async () => ({ total: 0, status_distribution: {} }) as never,
  };
  const params = new URLSearchParams({ filter: 'metadata[jsonpath]$.n >= 0' });
  await expect(lamassuStats(params, deps)).rejects.toThrow(/time budget/);
  await expect(lamassuStats(params, deps)).rejects.toBeInstanceOf(QueryTooBroadError);
  // Three reads of 1,000 items each, not the five the fleet needs.
  expect(calls.length).toBe(6);
});

it('the JSONPath step budget is shared by every device of a request', async () => {
  const devices = Array.from({ length: 3000 }, (_, i) => device(i, { a: Array.from({ length: 200 }, (_, j) => j) }));
  const deps: ListDeps = { list: fakeList(devices, []), codec, readBudget: 100_000 };
  const params = new URLSearchParams({ filter: 'metadata[jsonpath]$..*..*' });
  await expect(lamassuStats(params, { ...deps, stats: async () => ({}) as never })).rejects.toThrow(
    /metadata\[jsonpath\]\$\.\.\*\.\.\*: the JSONPath filters visited more than 1000000 nodes/,
  );
});
