/**
 * Remediation jobs on the real adapters and the embedded engine: selection by list filters, each
 * action, dry run, cancel, and at most one change per device and job when a page is re-run after a
 * crash or walked by two workers at once, with counts that stay exact.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Engine } from '@device-manager/local-engine';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { POLICY_DMS_ATTRIBUTE, POLICY_VERSION_ATTRIBUTE } from '../../../functions/adapters/dynamodb/device-writes';
import { jobStore } from '../../../functions/adapters/dynamodb/job-store';
import { deviceKey } from '../../../functions/adapters/dynamodb/keys';
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceActions } from '../../../functions/app/device-actions';
import { deviceChanges } from '../../../functions/app/device-changes';
import { deviceService } from '../../../functions/app/devices';
import { policyCaches } from '../../../functions/composition/jobs';
import { JOB_TASK, jobService } from '../../../functions/app/jobs';
import type { Task } from '../../../functions/app/ports';
import { JobFinishedError, ValidationError } from '../../../functions/domain/errors';
import { defaultPolicy } from '../../../functions/domain/policy';
import { IDENTITY_SLOT } from '../../../functions/domain/slots';
import { byReference } from '../../support/lifecycle';
import { freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

function setup(table: TestTable, options: { failAfter?: number } = {}) {
  const clock = testClock();
  const bookmarks = bookmarkCodec('k');
  const repository = deviceRepository({
    client: table.documentClient,
    tableName: table.tableName,
    listShards: 2,
    statsShards: 2,
    bookmarks,
  });
  const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  // The DMS policy as the composition caches it for a walk, its reads counted.
  const policyReads: { count: number; after?: () => Promise<void> } = { count: 0 };
  const cached = policyCaches({
    async get(dms) {
      policyReads.count++;
      const policy = await policies.get(dms);
      await policyReads.after?.();
      return policy;
    },
  });
  const changes = deviceChanges({ devices: repository, policies: cached.policies, clock, newId: randomUUID });
  let mutations = 0;
  // A worker that dies after `failAfter` device changes (the rest of its page is never reached).
  const crashing = {
    mutate: ((...args: Parameters<typeof changes.mutate>) => {
      if (options.failAfter !== undefined && mutations++ >= options.failAfter)
        return Promise.reject(new Error('worker crashed'));
      return changes.mutate(...args);
    }) as typeof changes.mutate,
  };
  const sent: Task[] = [];
  const store = jobStore({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const deps = {
    jobs: store,
    devices: repository,
    actions: deviceActions(changes, randomUUID),
    queue: () => ({ send: async (tasks: readonly Task[]) => void sent.push(...tasks) }),
    clock,
    newId: randomUUID,
    sleep: async () => undefined,
    forgetPolicies: cached.forget,
  };
  const jobs = jobService({ ...deps, changes: crashing });
  const healthy = jobService({ ...deps, changes });
  const context = { deadline: Date.now() + 60_000, queue: deps.queue(), log: () => undefined };
  /** Runs every task sent so far (and those they send) with `service`'s handlers. */
  const drain = async (service = jobs) => {
    while (sent.length > 0) await service.handlers()[JOB_TASK]!(sent.shift()!, context);
  };
  return { clock, devices, policies, policyReads, jobs, healthy, store, sent, drain, context };
}

async function fleet(devices: ReturnType<typeof setup>['devices'], n: number, tagged: (i: number) => boolean) {
  for (let i = 0; i < n; i++)
    await devices.register({
      id: `dev-${String(i).padStart(3, '0')}`,
      dms_id: 'dms-1',
      tags: tagged(i) ? ['line-3'] : ['line-4'],
    });
}

async function outboxTypes(table: TestTable): Promise<string[]> {
  const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
  return (out.Items ?? [])
    .filter((i) => i.kind === 'outbox')
    .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)) as { type: string; data: unknown })
    .filter((e) => e.type.startsWith('job.'))
    .map((e) => `${e.type}:${JSON.stringify((e.data as { updated?: { status: string } }).updated?.status ?? '')}`);
}

describe('remediation jobs', () => {
  it('adds tags to the devices the filters select, once each, and reports counts, outcomes and events', async () => {
    const table = await freshTable(engine);
    const { devices, jobs, drain } = setup(table);
    await fleet(devices, 12, (i) => i % 3 !== 0);
    const created = await jobs.create({
      filter: ['tags[ct]line-3'],
      action: { type: 'add-tags', tags: ['quarantine'] },
      rate_per_second: 1000,
    });
    expect(created).toMatchObject({ status: 'PENDING', dry_run: false, counts: { matched: 0 } });
    expect(created).not.toHaveProperty('version');
    await drain();

    const job = await jobs.get(created.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 8, done: 8, skipped: 0, failed: 0 } });
    for (let i = 0; i < 12; i++) {
      const device = await devices.get(`dev-${String(i).padStart(3, '0')}`);
      expect(device.tags.includes('quarantine')).toBe(i % 3 !== 0);
      expect(device.version).toBe(i % 3 !== 0 ? 2 : 1);
    }
    const first = await jobs.devices(created.id, 5);
    const second = await jobs.devices(created.id, 5, first.next);
    expect(second.next).toBe('');
    expect([...first.list, ...second.list].map((o) => [o.device_id, o.outcome])).toEqual(
      [1, 2, 4, 5, 7, 8, 10, 11].map((i) => [`dev-${String(i).padStart(3, '0')}`, 'done']),
    );
    expect(await outboxTypes(table)).toEqual(
      expect.arrayContaining(['job.create:""', 'job.status.update:"RUNNING"', 'job.status.update:"SUCCEEDED"']),
    );
    expect((await jobs.list(10)).list.map((j) => j.id)).toEqual([created.id]);
  });

  it('a dry run counts and lists the selection and changes no device', async () => {
    const table = await freshTable(engine);
    const { devices, jobs, drain } = setup(table);
    await fleet(devices, 6, (i) => i < 4);
    const { id } = await jobs.create({ filter: ['tags[ct]line-3'], action: { type: 'decommission' }, dry_run: true });
    await drain();
    expect(await jobs.get(id)).toMatchObject({
      status: 'SUCCEEDED',
      dry_run: true,
      counts: { matched: 4, done: 0, skipped: 0, failed: 0 },
    });
    expect((await jobs.devices(id, 10)).list.map((o) => o.outcome)).toEqual([
      'matched',
      'matched',
      'matched',
      'matched',
    ]);
    for (let i = 0; i < 6; i++)
      expect(await devices.get(`dev-00${i}`)).toMatchObject({ version: 1, status: 'NO_IDENTITY' });
  });

  it('after a crash mid-page the re-run changes no device twice and the counts stay exact', async () => {
    const table = await freshTable(engine);
    const crashed = setup(table, { failAfter: 3 });
    await fleet(crashed.devices, 10, () => true);
    const { id } = await crashed.jobs.create({ filter: ['tags[ct]line-3'], action: { type: 'add-tags', tags: ['x'] } });
    const task = crashed.sent[0]!;
    await expect(crashed.drain()).rejects.toThrow('worker crashed');
    expect((await crashed.jobs.get(id)).counts.matched).toBe(0);
    // The task is delivered again (SQS) to a healthy worker: it re-runs the page from the stored position.
    crashed.sent.push(task);
    await crashed.drain(crashed.healthy);
    expect(await crashed.jobs.get(id)).toMatchObject({
      status: 'SUCCEEDED',
      counts: { matched: 10, done: 10, skipped: 0, failed: 0 },
    });
    for (let i = 0; i < 10; i++) expect((await crashed.devices.get(`dev-00${i}`)).version).toBe(2);
  });

  it('two workers walking the same job at once change each device once', async () => {
    const table = await freshTable(engine);
    const { devices, healthy, sent, context } = setup(table);
    await fleet(devices, 12, () => true);
    const { id } = await healthy.create({
      filter: ['tags[ct]line-3'],
      action: { type: 'merge-metadata', metadata: { fw: '2.0' } },
      rate_per_second: 1000,
    });
    const task = sent.shift()!;
    const run = healthy.handlers()[JOB_TASK]!;
    await Promise.all([run(task, context), run(task, context)]);
    while (sent.length > 0) await run(sent.shift()!, context);
    const job = await healthy.get(id);
    // Of two walkers one is overtaken at its first save: the page it worked is counted by the other.
    if (job.status !== 'SUCCEEDED') await run(task, context);
    expect(await healthy.get(id)).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 12, done: 12 } });
    for (let i = 0; i < 12; i++) {
      const device = await devices.get(`dev-${String(i).padStart(3, '0')}`);
      expect(device).toMatchObject({ version: 2, metadata: { fw: '2.0' } });
    }
  });

  it('revokes identities, skipping devices without one or already revoked', async () => {
    const table = await freshTable(engine);
    const { devices, jobs, drain, clock } = setup(table);
    await fleet(devices, 4, () => true);
    await devices.bind('dev-000', IDENTITY_SLOT, byReference(1, clock.now()));
    await devices.bind('dev-001', IDENTITY_SLOT, byReference(2, clock.now()));
    await devices.revoke('dev-001', IDENTITY_SLOT, 'Superseded');
    const { id } = await jobs.create({
      filter: ['tags[ct]line-3'],
      action: { type: 'revoke-identity', reason: 'KeyCompromise' },
    });
    await drain();
    expect(await jobs.get(id)).toMatchObject({ counts: { matched: 4, done: 1, skipped: 3, failed: 0 } });
    expect((await devices.get('dev-000')).status).toBe('REVOKED');
    const outcomes = (await jobs.devices(id, 10)).list;
    expect(outcomes.map((o) => o.outcome)).toEqual(['done', 'skipped', 'skipped', 'skipped']);
  });

  it('reads the DMS policy once per task run, not per page, and a policy changed mid-run still fences', async () => {
    const table = await freshTable(engine);
    const { devices, policies, policyReads, healthy, sent, context, clock } = setup(table);
    await fleet(devices, 9, () => true);
    for (let i = 0; i < 9; i++) await devices.bind(`dev-00${i}`, IDENTITY_SLOT, byReference(i + 1, clock.now()));
    // Rate 2/s: pages of 4 devices, so the walk reads three pages in one run.
    const { id } = await healthy.create({
      filter: ['tags[ct]line-3'],
      action: { type: 'revoke-identity', reason: 'KeyCompromise' },
      rate_per_second: 2,
    });
    const run = healthy.handlers()[JOB_TASK]!;
    policyReads.count = 0;
    await run(sent.shift()!, context);
    expect(await healthy.get(id)).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 9, done: 9 } });
    expect(policyReads.count).toBe(1);

    // The policy moves right after the run read it, and its walk stamps the devices with the new version:
    // the first change, computed with the older copy, is refused by the policy fence; the retry reads the
    // policy again, and every device is changed once.
    const second = await healthy.create({ filter: ['tags[ct]line-3'], action: { type: 'decommission' } });
    policyReads.count = 0;
    policyReads.after = async () => {
      policyReads.after = undefined;
      await policies.save(undefined, { ...defaultPolicy('dms-1'), name: 'moved', version: 1 }, []);
      for (let i = 0; i < 9; i++)
        await table.documentClient.send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: deviceKey(`dev-00${i}`),
            UpdateExpression: 'SET #pv = :pv, #pdms = :pdms',
            ExpressionAttributeNames: { '#pv': POLICY_VERSION_ATTRIBUTE, '#pdms': POLICY_DMS_ATTRIBUTE },
            ExpressionAttributeValues: { ':pv': 1, ':pdms': 'dms-1' },
          }),
        );
    };
    await run(sent.shift()!, context);
    expect(await healthy.get(second.id)).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 9, done: 9 } });
    expect(policyReads.count).toBe(2);
    for (let i = 0; i < 9; i++) expect((await devices.get(`dev-00${i}`)).status).toBe('DECOMMISSIONED');
  });

  it('records a device the action cannot apply to as failed, with the reason, and goes on', async () => {
    const table = await freshTable(engine);
    const { devices, jobs, drain } = setup(table);
    await devices.register({
      id: 'full',
      dms_id: 'd',
      tags: ['line-3', ...Array.from({ length: 49 }, (_, i) => `t${i}`)],
    });
    await devices.register({ id: 'room', dms_id: 'd', tags: ['line-3'] });
    const { id } = await jobs.create({ filter: ['tags[ct]line-3'], action: { type: 'add-tags', tags: ['new'] } });
    await drain();
    expect(await jobs.get(id)).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 2, done: 1, failed: 1 } });
    const [full] = (await jobs.devices(id, 10)).list;
    expect(full).toMatchObject({ device_id: 'full', outcome: 'failed' });
    expect(full!.detail).toMatch(/tags/);
  });

  it('cancels a pending job (its task then does nothing) and refuses to cancel a finished one', async () => {
    const table = await freshTable(engine);
    const { devices, jobs, drain } = setup(table);
    await fleet(devices, 3, () => true);
    const pending = await jobs.create({ filter: ['tags[ct]line-3'], action: { type: 'decommission' } });
    expect(await jobs.cancel(pending.id)).toMatchObject({ status: 'CANCELLED' });
    expect(await jobs.cancel(pending.id)).toMatchObject({ status: 'CANCELLED' });
    await drain();
    expect((await devices.get('dev-000')).status).toBe('NO_IDENTITY');
    const done = await jobs.create({ filter: ['id[eq]dev-001'], action: { type: 'decommission' } });
    await drain();
    expect((await devices.get('dev-001')).status).toBe('DECOMMISSIONED');
    await expect(jobs.cancel(done.id)).rejects.toBeInstanceOf(JobFinishedError);
    expect(await outboxTypes(table)).toContain('job.status.update:"CANCELLED"');
  });

  it('refuses a selection the list API would refuse, naming the filter', async () => {
    const table = await freshTable(engine);
    const { jobs, sent } = setup(table);
    const error = await jobs
      .create({ filter: ['status[eq]ACTIVE', 'color[eq]red'], action: { type: 'decommission' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.map((d) => d.field)).toEqual(['filter[1]']);
    expect(sent).toHaveLength(0);
    expect((await jobs.list(10)).list).toHaveLength(0);
  });

  it('resumes an unfinished job that has not moved for a while, and only such a job', async () => {
    const table = await freshTable(engine);
    const { devices, jobs, sent, clock, drain } = setup(table);
    await fleet(devices, 2, () => true);
    const { id } = await jobs.create({ filter: ['tags[ct]line-3'], action: { type: 'add-tags', tags: ['y'] } });
    sent.length = 0; // the first task was lost
    const queue = { send: async (tasks: readonly Task[]) => void sent.push(...tasks) };
    expect(await jobs.resumeStalled(queue, 60_000)).toBe(0);
    clock.advance(61_000);
    expect(await jobs.resumeStalled(queue, 60_000)).toBe(1);
    await drain();
    expect(await jobs.get(id)).toMatchObject({ status: 'SUCCEEDED', counts: { done: 2 } });
    expect(await jobs.resumeStalled(queue, 0)).toBe(0);
  });
});
