/**
 * The sweeper as dispatcher and workers, on the real adapters and the embedded engine: a segment's
 * backlog spreads over the workers, a run's tasks stop once a newer run began, and the work of tasks
 * lost in a crash is finished by the next run, each transition recorded once.
 */
import { randomUUID } from 'node:crypto';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { createDocumentClient } from '../../../functions/adapters/dynamodb/client';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { sweepIndex } from '../../../functions/adapters/dynamodb/sweep-index';
import { deviceService, type DeviceService } from '../../../functions/app/devices';
import type { Task } from '../../../functions/app/ports';
import { dispatchSweep, SWEEP_TASKS, sweep, sweepHandlers } from '../../../functions/app/sweep';
import { taskRunner } from '../../../functions/app/tasks';
import { parseCertificate } from '../../../functions/domain/certificate';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { freshTable, settledCounters, startTestEngine, testClock } from '../../support/dynamo';

const DAY = 86_400_000;
const DEVICES = 16;
let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

/** DEVICES devices in one due shard, all crossing ACTIVE → RENEWAL_PENDING 40 days on. */
async function fleet() {
  const table = await freshTable(engine);
  const clock = testClock();
  const bookmarks = bookmarkCodec('k');
  const client = table.documentClient;
  // Statistics follow the stream: the wrapper applies the counters before each statistics read.
  const repository = settledCounters(
    deviceRepository({
      client,
      tableName: table.tableName,
      listShards: 2,
      statsShards: 2,
      dueShards: 1,
      bookmarks,
    }),
    table,
    2,
  );
  const policies = policyRepository({ client, tableName: table.tableName, bookmarks });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const index = sweepIndex({ repository, client, tableName: table.tableName });
  const pem = (await certificate({ notAfter: new Date(clock.now().getTime() + 61 * DAY) })).pem;
  for (let i = 0; i < DEVICES; i++) {
    await service.register({ id: `f-${String(i).padStart(2, '0')}`, dms_id: 'dms-f' });
    await service.bind(`f-${String(i).padStart(2, '0')}`, 'identity', {
      type: 'x509',
      certificate: parseCertificate(pem),
    });
  }
  clock.advance(40 * DAY);
  const statuses = async () => {
    const page = await service.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 100 });
    return page.list.map((d) => d.status);
  };
  return { clock, repository, policies, service, index, statuses };
}

describe('the sweep fan-out', () => {
  it('spreads one segment of the due index over the workers, page by page', async () => {
    const f = await fleet();
    // The first device of each task waits until 4 tasks hold one: only a fan-out of the single
    // segment's pages over the 4 workers lets the sweep go on (else the test times out).
    const held: (() => void)[] = [];
    let released = false;
    const barrier: Pick<DeviceService, 'refresh'> = {
      async refresh(device, cache) {
        if (!released)
          await new Promise<void>((resolve) => {
            held.push(resolve);
            if (held.length === 4) {
              released = true;
              for (const go of held) go();
            }
          });
        return f.service.refresh(device, cache);
      },
    };
    const report = await sweep(
      { index: f.index, policies: f.policies, service: barrier, clock: f.clock },
      { deadline: Date.now() + 60_000, pageSize: 3, workers: 4 },
    );
    expect(held).toHaveLength(4);
    expect(report).toMatchObject({ due: DEVICES, transitioned: DEVICES, failed: 0, complete: true });
    expect(new Set(await f.statuses())).toEqual(new Set(['RENEWAL_PENDING']));
  }, 60_000);

  it('with one worker, the same sweep never runs two devices at once', async () => {
    const f = await fleet();
    let running = 0;
    let peak = 0;
    const counting: Pick<DeviceService, 'refresh'> = {
      async refresh(device, cache) {
        running++;
        peak = Math.max(peak, running);
        try {
          return await f.service.refresh(device, cache);
        } finally {
          running--;
        }
      },
    };
    const report = await sweep(
      { index: f.index, policies: f.policies, service: counting, clock: f.clock },
      { deadline: Date.now() + 60_000, pageSize: 3, workers: 1 },
    );
    expect(report.transitioned).toBe(DEVICES);
    expect(peak).toBe(1);
  });

  it('stops the tasks of a run once a newer run began; the newer run does the work', async () => {
    const f = await fleet();
    const deps = { index: f.index, policies: f.policies, service: f.service, clock: f.clock };
    const sent: Task[] = [];
    await dispatchSweep(deps, { send: async (tasks) => void sent.push(...tasks) });
    const oldDue = sent.find((t) => t.kind === SWEEP_TASKS.due)!;
    const later = await sweep(deps, { deadline: Date.now() + 60_000, pageSize: 7 });
    expect(later.transitioned).toBe(DEVICES);
    const run = taskRunner(sweepHandlers(deps, { pageSize: 7 }));
    const follow: Task[] = [];
    const counts = await run(oldDue, {
      deadline: Date.now() + 60_000,
      queue: { send: async (tasks) => void follow.push(...tasks) },
      log: () => undefined,
    });
    expect(counts).toEqual({ superseded: 1 });
    expect(follow).toEqual([]);
  });

  it('finishes, in the next run, the work of tasks lost in a crash, recording each transition once', async () => {
    const f = await fleet();
    const deps = { index: f.index, policies: f.policies, service: f.service, clock: f.clock };
    const run = taskRunner(sweepHandlers(deps, { pageSize: 5 }));
    const pending: Task[] = [];
    const context = {
      deadline: Date.now() + 60_000,
      queue: { send: async (tasks: readonly Task[]) => void pending.push(...tasks) },
      log: () => undefined,
    };
    await dispatchSweep(deps, context.queue);
    // The first due page is worked; its follow-up task is then lost with the crashed worker.
    const first = await run(pending.find((t) => t.kind === SWEEP_TASKS.due)!, context);
    expect(first).toMatchObject({ due: 5, transitioned: 5 });
    expect(pending.filter((t) => t.kind === SWEEP_TASKS.due && t.after !== undefined)).toHaveLength(1);
    const before = await f.statuses();
    expect(before.filter((s) => s === 'RENEWAL_PENDING')).toHaveLength(5);
    const next = await sweep(deps, { deadline: Date.now() + 60_000, pageSize: 5 });
    expect(next).toMatchObject({ due: DEVICES - 5, transitioned: DEVICES - 5, complete: true });
    expect(new Set(await f.statuses())).toEqual(new Set(['RENEWAL_PENDING']));
    const again = await sweep(deps, { deadline: Date.now() + 60_000, pageSize: 5 });
    expect(again).toMatchObject({ due: 0, transitioned: 0 });
    expect((await f.service.stats([])).status_distribution).toMatchObject({ RENEWAL_PENDING: DEVICES, ACTIVE: 0 });
  });
});

describe('the calls of a sweep with one device due', () => {
  it('dispatch in 6 DynamoDB calls without reading a device, then transition it in 5', async () => {
    const table = await freshTable(engine);
    const clock = testClock();
    const bookmarks = bookmarkCodec('k');
    // A client of its own: only the sweeper's calls are counted.
    const client = createDocumentClient({ endpoint: engine.endpoint });
    const calls: string[] = [];
    const repository = deviceRepository({
      client,
      tableName: table.tableName,
      listShards: 2,
      statsShards: 2,
      bookmarks,
    });
    const policies = policyRepository({ client, tableName: table.tableName, bookmarks });
    const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
    const deps = { index: sweepIndex({ repository, client, tableName: table.tableName }), policies, service, clock };
    const pem = (await certificate({ notAfter: new Date(clock.now().getTime() + 61 * DAY) })).pem;
    await service.register({ id: 'one', dms_id: 'dms-f' });
    await service.bind('one', 'identity', { type: 'x509', certificate: parseCertificate(pem) });
    await sweep(deps, { deadline: Date.now() + 60_000 });
    clock.advance(40 * DAY);
    client.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(String(context.commandName).replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );

    const sent: Task[] = [];
    await dispatchSweep(deps, { send: async (tasks) => void sent.push(...tasks) });
    // The run marker, the first entry of each of the 4 due shards, the policy jobs.
    expect(calls.sort()).toEqual(['PutItem', 'Query', 'Query', 'Query', 'Query', 'Query']);
    const due = sent.find((t) => t.kind === SWEEP_TASKS.due)!;
    calls.length = 0;
    const run = taskRunner(sweepHandlers(deps));
    const counts = await run(due, {
      deadline: Date.now() + 60_000,
      queue: { send: async () => undefined },
      log: () => undefined,
    });
    expect(counts).toMatchObject({ due: 1, transitioned: 1 });
    // The run marker, the page, its device, its DMS policy, the transition.
    expect(calls).toEqual(['GetItem', 'Query', 'BatchGetItem', 'GetItem', 'TransactWriteItems']);
    client.destroy();
  });
});

describe('the policies of a due page', () => {
  it('are read in one call for the page, a stored policy honoured and the others defaults', async () => {
    const table = await freshTable(engine);
    const clock = testClock();
    const bookmarks = bookmarkCodec('k');
    const client = createDocumentClient({ endpoint: engine.endpoint });
    const calls: string[] = [];
    const repository = deviceRepository({
      client,
      tableName: table.tableName,
      listShards: 2,
      statsShards: 2,
      dueShards: 1,
      bookmarks,
    });
    const policies = policyRepository({ client, tableName: table.tableName, bookmarks });
    const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
    const deps = { index: sweepIndex({ repository, client, tableName: table.tableName }), policies, service, clock };
    // dms-b renews 30 days before expiry and is critical at 10; the others have the defaults (60 and 14).
    const settings = { preventive_delta: '30d', critical_delta: '10d' };
    await policies.save(undefined, { id: 'dms-b', name: 'b', settings, version: 1 }, []);
    const pem = (await certificate({ notAfter: new Date(clock.now().getTime() + 61 * DAY) })).pem;
    for (const dms of ['dms-a', 'dms-b', 'dms-c']) {
      await service.register({ id: `on-${dms}`, dms_id: dms });
      await service.bind(`on-${dms}`, 'identity', { type: 'x509', certificate: parseCertificate(pem) });
    }
    await sweep(deps, { deadline: Date.now() + 60_000 });
    // 11 days before expiry: critical by the defaults, only preventive by dms-b's policy.
    clock.advance(50 * DAY);
    client.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(String(context.commandName).replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    const sent: Task[] = [];
    await dispatchSweep(deps, { send: async (tasks) => void sent.push(...tasks) });
    calls.length = 0;
    const run = taskRunner(sweepHandlers(deps));
    for (const due of sent.filter((t) => t.kind === SWEEP_TASKS.due))
      await run(due, { deadline: Date.now() + 60_000, queue: { send: async () => undefined }, log: () => undefined });
    // One due shard holds the three: the run marker, the page, its devices, their 3 policies in one call.
    expect(calls).toEqual([
      'GetItem',
      'Query',
      'BatchGetItem',
      'BatchGetItem',
      'TransactWriteItems',
      'TransactWriteItems',
      'TransactWriteItems',
    ]);
    const status = async (id: string) => (await service.get(id)).status;
    expect(await status('on-dms-a')).toBe('EXPIRING_SOON');
    expect(await status('on-dms-b')).toBe('RENEWAL_PENDING');
    expect(await status('on-dms-c')).toBe('EXPIRING_SOON');
    client.destroy();
  });
});
