/**
 * A remediation job whose selection is a posture finding (`{"finding": "<check>"}`), on the real adapters
 * and the embedded engine: 409 until the findings are assessed, the walk reads the check's own index
 * (only the devices with the check open, not the fleet), a dry run counts them, and the job's changes
 * keep the devices' findings current (a revoke resolves the check, so its index empties).
 */
import { randomUUID } from 'node:crypto';
import type { Engine } from '@device-manager/local-engine';
import { jobStore } from '../../../functions/adapters/dynamodb/job-store';
import { deviceActions } from '../../../functions/app/device-actions';
import { deviceChanges } from '../../../functions/app/device-changes';
import { JOB_TASK, jobService } from '../../../functions/app/jobs';
import type { Task } from '../../../functions/app/ports';
import { parseCertificate } from '../../../functions/domain/certificate';
import { IndexNotReadyError, ValidationError } from '../../../functions/domain/errors';
import { findingsOf } from '../../../functions/domain/findings';
import { DEFAULT_POSTURE_POLICY } from '../../../functions/domain/posture';
import { certificate } from '../../support/certificates';
import { postureStack } from '../../support/posture';
import { startTestEngine } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

async function setup() {
  const { table, clock, bookmarks, policies, repository, posture, service, walk, policy } = await postureStack(engine);
  const changes = deviceChanges({ devices: repository, policies, clock, newId: randomUUID, posture });
  // The selection's reads, counted: a finding job reads the check's devices, never the fleet.
  const selected: string[] = [];
  const findings = {
    ready: () => posture.ready(),
    findingDevices: async (...args: Parameters<typeof posture.findingDevices>) => {
      const page = await posture.findingDevices(...args);
      selected.push(...page.list.map((d) => d.id));
      return page;
    },
  };
  const sent: Task[] = [];
  const queue = () => ({ send: async (tasks: readonly Task[]) => void sent.push(...tasks) });
  const jobs = jobService({
    jobs: jobStore({ client: table.documentClient, tableName: table.tableName, bookmarks }),
    devices: repository,
    findings,
    changes,
    actions: deviceActions(changes, randomUUID),
    queue,
    clock,
    newId: randomUUID,
    sleep: async () => undefined,
  });
  const context = { deadline: Date.now() + 60_000, queue: queue(), log: () => undefined };
  const drain = async () => {
    while (sent.length > 0) await jobs.handlers()[JOB_TASK]!(sent.shift()!, context);
  };
  // Valid for about 3 years: `validity-too-long` under max_validity_days 30. One key pair per device, so
  // no other check (a shared certificate or key) is open beside it.
  const bindLong = async (id: string) => {
    const { pem } = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2029-01-01T00:00:00Z' });
    return service.bind(id, 'identity', { type: 'x509', certificate: parseCertificate(pem) });
  };
  return { repository, posture, service, walk, jobs, drain, selected, bindLong, policy };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `dev-${String(i).padStart(2, '0')}`);
const revoke = { type: 'revoke-identity', reason: 'Superseded' } as const;

describe('a job selecting a finding', () => {
  it('is 409 until the findings are assessed, then walks only the devices with the check open', async () => {
    const { repository, posture, service, walk, jobs, drain, selected, bindLong, policy } = await setup();
    for (const id of ids(10)) await service.register({ id, dms_id: 'dms' });
    await expect(jobs.create({ finding: 'validity-too-long', action: revoke })).rejects.toBeInstanceOf(
      IndexNotReadyError,
    );
    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, max_validity_days: 30 }, 0);
    await walk(); // the first assessment: findings ready
    const flagged = ['dev-01', 'dev-04', 'dev-07'];
    for (const id of flagged) await bindLong(id);
    const page = await posture.findingDevices('validity-too-long', 10);
    expect(page.list.map((d) => d.id).sort()).toEqual(flagged);
    expect(page.next).toBe('');

    const dry = await jobs.create({ finding: 'validity-too-long', action: revoke, dry_run: true });
    expect(dry).toMatchObject({ filter: [], finding: 'validity-too-long', dry_run: true });
    await drain();
    expect(await jobs.get(dry.id)).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 3, done: 0 } });
    expect(selected.sort()).toEqual(flagged); // the other seven devices were never read
    const versions = await Promise.all(flagged.map(async (id) => (await repository.get(id))!.version));

    selected.length = 0;
    const job = await jobs.create({ finding: 'validity-too-long', action: revoke, rate_per_second: 1000 });
    await drain();
    expect(await jobs.get(job.id)).toMatchObject({
      status: 'SUCCEEDED',
      counts: { matched: 3, done: 3, skipped: 0, failed: 0 },
    });
    expect(selected.sort()).toEqual(flagged);
    for (const [i, id] of flagged.entries()) {
      const device = (await repository.get(id))!;
      expect(device.version).toBe(versions[i]! + 1);
      // The job's change judged the device again: no certificate in service, no finding.
      expect(findingsOf(device)).toEqual([]);
    }
    expect((await jobs.devices(job.id, 10)).list.map((o) => [o.device_id, o.outcome])).toEqual(
      flagged.map((id) => [id, 'done']),
    );
    expect((await posture.findingDevices('validity-too-long', 10)).list).toEqual([]);
  });

  it('pages the check shard by shard, each device once, leaving out one whose finding is resolved', async () => {
    const { posture, service, walk, bindLong, policy } = await setup();
    for (const id of ids(7)) await service.register({ id, dms_id: 'dms' });
    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, max_validity_days: 30 }, 0);
    await walk();
    for (const id of ids(7)) await bindLong(id);
    const first = await posture.findingDevices('validity-too-long', 2);
    expect(first.list).toHaveLength(2);
    const seen = first.list.map((d) => d.id);
    const resolved = ids(7).find((id) => !seen.includes(id))!;
    await service.revoke(resolved, 'identity', 'Superseded');
    let next = first.next;
    while (next !== '') {
      const page = await posture.findingDevices('validity-too-long', 2, next);
      seen.push(...page.list.map((d) => d.id));
      next = page.next;
    }
    expect(seen.sort()).toEqual(ids(7).filter((id) => id !== resolved));
    await expect(posture.findingDevices('weak-key', 2, first.next)).rejects.toThrow(/bookmark/i);
  });

  it('refuses a selection that is neither or both of filter and finding, or an unknown check', async () => {
    const { jobs } = await setup();
    const problems = async (input: Parameters<typeof jobs.create>[0]) => {
      const error = await jobs.create(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).details.map((d) => d.field);
    };
    expect(await problems({ action: revoke })).toEqual(['filter']);
    expect(await problems({ filter: ['status[eq]ACTIVE'], finding: 'weak-key', action: revoke })).toEqual(['filter']);
    expect(await problems({ finding: 'no-such-check', action: revoke })).toEqual(['finding']);
  });
});
