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
import { startEngine } from '../local/engine';
import { fmt, inParallel, measure, printTable } from './support';

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

async function main() {
  const engine = await startEngine({});
  const tableName = `bench-groups-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint: engine.endpoint });
  await ensureTable(admin, tableName);
  admin.destroy();
  const client = createDocumentClient({ endpoint: engine.endpoint, region: 'us-east-1' });
  const bookmarks = bookmarkCodec('bench');
  const repository = deviceRepository({ client, tableName, listShards: 4, statsShards: 4, bookmarks });
  const policies = policyRepository({ client, tableName, bookmarks });
  const clock = { now: () => new Date() };
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const groupRepo = groupRepository({ client, tableName, bookmarks });
  const groups = groupService({ groups: groupRepo, devices, clock, newId: randomUUID });

  // Every tenth of the first 2,000 devices belongs to dms-bench: the same 200 at both fleet sizes;
  // 20 of them are decommissioned so that a status criterion matters.
  const isMatching = (n: number) => n < SMALL_FLEET && n % (SMALL_FLEET / MATCHING) === 0;
  const seed = (from: number, to: number) =>
    inParallel(
      Array.from({ length: to - from }, (_, i) => from + i),
      16,
      (n) => devices.register({ id: `seed-${n}`, dms_id: isMatching(n) ? 'dms-bench' : `dms-${n % 10}`, tags: [`t${n % 7}`], metadata: { n, bench: isMatching(n) } }),
    );

  await groups.create({ id: 'bench', name: 'Bench DMS', criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-bench' }] });
  await groups.create({ id: 'bench-live', name: 'Bench live', parent_id: 'bench', criteria: [{ field: 'status', operand: 'ne', value: 'DECOMMISSIONED' }] });
  await groups.create({ id: 'bench-meta', name: 'Bench metadata', parent_id: 'bench', criteria: [{ field: 'metadata.n', operand: 'ge', value: '0' }] });
  await groups.create({ id: 'contrast', name: 'No indexed criterion', criteria: [{ field: 'metadata.bench', operand: 'eq', value: 'true' }] });

  const probes: Probe[] = [
    { name: 'members page 25: dms_owner[eq] (root)', group: 'bench', op: 'members' },
    { name: 'members page 25: + status[ne] (child)', group: 'bench-live', op: 'members' },
    { name: 'members page 25: + metadata[ge] (child)', group: 'bench-meta', op: 'members' },
    { name: 'stats: dms_owner[eq] + status[ne] (counters)', group: 'bench-live', op: 'stats' },
    { name: 'stats: dms_owner[eq] + metadata[ge] (DMS entry)', group: 'bench-meta', op: 'stats' },
    { name: 'contrast, stats: metadata only (whole fleet)', group: 'contrast', op: 'stats' },
  ];

  const run = (p: Probe) =>
    p.op === 'members' ? groups.members(p.group, { filters: [], sortBy: 'creation_timestamp', sortMode: 'asc', pageSize: PAGE }).then((r) => r.list.length) : groups.stats(p.group).then((s) => s.total);

  async function measureAll(fleet: number) {
    const out = new Map<string, { items: number; result: number; p50: number }>();
    for (const p of probes) {
      const before = repository.itemsRead + groupRepo.itemsRead;
      const result = await run(p);
      const items = repository.itemsRead + groupRepo.itemsRead - before;
      const timing = await measure(RUNS, 1, () => run(p));
      out.set(p.name, { items, result, p50: timing.p50 });
    }
    console.log(`measured at ${fleet} devices`);
    return out;
  }

  console.log(`seeding ${SMALL_FLEET} devices (${MATCHING} in dms-bench)…`);
  await seed(0, SMALL_FLEET);
  const decommissioned = Array.from({ length: SMALL_FLEET }, (_, n) => n).filter(isMatching).slice(0, 20);
  for (const n of decommissioned) await devices.decommission(`seed-${n}`);
  const small = await measureAll(SMALL_FLEET);

  console.log(`seeding up to ${LARGE_FLEET} devices…`);
  await seed(SMALL_FLEET, LARGE_FLEET);
  const large = await measureAll(LARGE_FLEET);

  const rows = probes.map((p) => {
    const s = small.get(p.name)!;
    const l = large.get(p.name)!;
    if (s.result !== l.result) throw new Error(`${p.name}: ${s.result} at ${SMALL_FLEET} but ${l.result} at ${LARGE_FLEET}`);
    return [p.name, String(s.result), String(s.items), String(l.items), `${fmt(l.items / s.items)}×`, s.p50, l.p50, `${fmt(l.p50 / s.p50)}×`];
  });
  printTable(
    `Device group members and statistics, ${SMALL_FLEET} vs ${LARGE_FLEET} devices, same ${MATCHING} matching (items read incl. group items; p50 of ${RUNS} runs, ms; target ratio ≤ 1.3 except the contrast)`,
    ['operation (group criteria)', 'result', `items ${SMALL_FLEET / 1000}k`, `items ${LARGE_FLEET / 1000}k`, 'items ratio', `p50 ${SMALL_FLEET / 1000}k`, `p50 ${LARGE_FLEET / 1000}k`, 'p50 ratio'],
    rows,
  );
  client.destroy();
  await engine.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
