/**
 * `npm run bench:groups`: what a device group's members page (page_size 25) and statistics cost as
 * the fleet grows from 2,000 to 20,000 devices while the same 200 devices match, in one run on the
 * embedded engine. Groups inherit `dms_owner[eq]` from their root, so the members come from the DMS
 * entry point and the cost should not follow the fleet (target: 20k/2k ≤ 1.3 for items read and
 * time). One contrast row shows a group without any indexed criterion.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { bookmarkCodec } from '../functions/adapters/dynamodb/bookmark';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { deviceRepository } from '../functions/adapters/dynamodb/device-repository';
import { groupRepository } from '../functions/adapters/dynamodb/group-repository';
import { policyRepository } from '../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../functions/app/devices';
import { groupService } from '../functions/app/groups';
import { ensureTable } from '../local/create-table';
import { startEngine } from '@device-manager/local-engine';
import { fmt, inParallel, measure, percentile, printTable } from './support';

const SMALL_FLEET = 2000;
const LARGE_FLEET = Number(process.env.BENCH_LARGE_FLEET ?? 20000);
const MATCHING = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const PAGE = 25;

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

interface Probe {
  name: string;
  group: string;
  op: 'members' | 'stats';
}

/** One fleet in its own table on the shared engine: device and group use cases, and read counters. */
async function fleetOf(endpoint: string, size: number) {
  const tableName = `bench-groups-${size}-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint });
  await ensureTable(admin, tableName);
  admin.destroy();
  const client = createDocumentClient({ endpoint, region: 'us-east-1' });
  const bookmarks = bookmarkCodec('bench');
  const repository = deviceRepository({ client, tableName, listShards: 4, statsShards: 4, bookmarks });
  const policies = policyRepository({ client, tableName, bookmarks });
  const clock = { now: () => new Date() };
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const groupRepo = groupRepository({ client, tableName, bookmarks });
  const groups = groupService({ groups: groupRepo, devices, clock, newId: randomUUID });

  // Every tenth of the first 2,000 devices belongs to dms-bench: the same 200 in both fleets;
  // 20 of them are decommissioned so that a status criterion matters.
  const isMatching = (n: number) => n < SMALL_FLEET && n % (SMALL_FLEET / MATCHING) === 0;
  console.log(`seeding ${size} devices (${MATCHING} in dms-bench)…`);
  await inParallel(
    Array.from({ length: size }, (_, n) => n),
    16,
    (n) =>
      devices.register({
        id: `seed-${n}`,
        dms_id: isMatching(n) ? 'dms-bench' : `dms-${n % 10}`,
        tags: [`t${n % 7}`],
        metadata: { n, bench: isMatching(n) },
      }),
  );
  for (const n of Array.from({ length: SMALL_FLEET }, (_, i) => i)
    .filter(isMatching)
    .slice(0, 20))
    await devices.decommission(`seed-${n}`);

  await groups.create({
    id: 'bench',
    name: 'Bench DMS',
    criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-bench' }],
  });
  await groups.create({
    id: 'bench-live',
    name: 'Bench live',
    parent_id: 'bench',
    criteria: [{ field: 'status', operand: 'ne', value: 'DECOMMISSIONED' }],
  });
  await groups.create({
    id: 'bench-meta',
    name: 'Bench metadata',
    parent_id: 'bench',
    criteria: [{ field: 'metadata.n', operand: 'ge', value: '0' }],
  });
  await groups.create({
    id: 'contrast',
    name: 'No indexed criterion',
    criteria: [{ field: 'metadata.bench', operand: 'eq', value: 'true' }],
  });

  const run = (p: Probe): Promise<number> =>
    p.op === 'members'
      ? groups
          .members(p.group, { filters: [], sortBy: 'creation_timestamp', sortMode: 'asc', pageSize: PAGE })
          .then((r) => r.list.length)
      : groups.stats(p.group).then((st) => st.total);
  return {
    size,
    run,
    itemsRead: () => repository.itemsRead + groupRepo.itemsRead,
    close: () => client.destroy(),
  };
}

const probes: Probe[] = [
  { name: 'members page 25: dms_owner[eq] (root)', group: 'bench', op: 'members' },
  { name: 'members page 25: + status[ne] (child)', group: 'bench-live', op: 'members' },
  { name: 'members page 25: + metadata[ge] (child)', group: 'bench-meta', op: 'members' },
  { name: 'stats: dms_owner[eq] + status[ne] (counters)', group: 'bench-live', op: 'stats' },
  { name: 'stats: dms_owner[eq] + metadata[ge] (DMS entry)', group: 'bench-meta', op: 'stats' },
  { name: 'contrast, stats: metadata only (whole fleet)', group: 'contrast', op: 'stats' },
];

async function main() {
  const engine = await startEngine({});
  const small = await fleetOf(engine.endpoint, SMALL_FLEET);
  const large = await fleetOf(engine.endpoint, LARGE_FLEET);

  const rows: (string | number)[][] = [];
  for (const p of probes) {
    const cost = async (fleet: typeof small) => {
      const before = fleet.itemsRead();
      const result = await fleet.run(p);
      return { result, items: fleet.itemsRead() - before };
    };
    const s = await cost(small);
    const l = await cost(large);
    if (s.result !== l.result)
      throw new Error(`${p.name}: ${s.result} at ${SMALL_FLEET} but ${l.result} at ${LARGE_FLEET}`);
    // Warm up, then alternate the two fleets call by call so that machine noise hits both alike.
    for (let i = 0; i < 10; i++) await Promise.all([small.run(p), large.run(p)]);
    const times = { small: [] as number[], large: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      times.small.push((await measure(1, 1, () => small.run(p))).p50);
      times.large.push((await measure(1, 1, () => large.run(p))).p50);
    }
    const p50 = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const [ts, tl] = [p50(times.small), p50(times.large)];
    rows.push([
      p.name,
      String(s.result),
      String(s.items),
      String(l.items),
      `${fmt(l.items / s.items)}×`,
      ts,
      tl,
      `${fmt(tl / ts)}×`,
    ]);
  }
  printTable(
    `Device group members and statistics, ${SMALL_FLEET} vs ${LARGE_FLEET} ` +
      `devices, same ${MATCHING} matching (items read incl. group ` +
      `items; p50 of ${RUNS} alternating runs, ms; target ratio ` +
      `≤ 1.3 except the contrast)`,
    [
      'operation (group criteria)',
      'result',
      `items ${SMALL_FLEET / 1000}k`,
      `items ${LARGE_FLEET / 1000}k`,
      'items ratio',
      `p50 ${SMALL_FLEET / 1000}k`,
      `p50 ${LARGE_FLEET / 1000}k`,
      'p50 ratio',
    ],
    rows,
  );
  small.close();
  large.close();
  await engine.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
