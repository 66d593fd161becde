/**
 * A job's per-device outcomes expire (TTL) JOB_RETENTION_DAYS after each was written, whichever write
 * stored it (in the device's own transaction, or alone for a skipped or dry-run device); the job item
 * itself has no TTL. Without the setting nothing expires.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Engine } from '@device-manager/local-engine';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { jobStore } from '../../../functions/adapters/dynamodb/job-store';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { TTL_ATTRIBUTE } from '../../../functions/adapters/dynamodb/schema';
import { deviceActions } from '../../../functions/app/device-actions';
import { deviceChanges } from '../../../functions/app/device-changes';
import { deviceService } from '../../../functions/app/devices';
import { JOB_TASK, jobService } from '../../../functions/app/jobs';
import type { Task } from '../../../functions/app/ports';
import { loadConfig } from '../../../functions/runtime/config';
import { freshTable, startTestEngine, testClock } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

async function run(jobRetentionDays: number | undefined) {
  const table = await freshTable(engine);
  const clock = testClock('2026-03-15T10:00:00.000Z');
  const bookmarks = bookmarkCodec('k');
  const { documentClient: client, tableName } = table;
  const retention = jobRetentionDays === undefined ? {} : { jobRetentionDays };
  const repository = deviceRepository({ client, tableName, listShards: 2, statsShards: 2, bookmarks, ...retention });
  const policies = policyRepository({ client, tableName, bookmarks });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const changes = deviceChanges({ devices: repository, policies, clock, newId: randomUUID });
  const sent: Task[] = [];
  const queue = () => ({ send: async (tasks: readonly Task[]) => void sent.push(...tasks) });
  const jobs = jobService({
    jobs: jobStore({ client, tableName, bookmarks, ...retention }),
    devices: repository,
    changes,
    actions: deviceActions(changes, randomUUID),
    queue,
    clock,
    newId: randomUUID,
    sleep: async () => undefined,
  });
  await devices.register({ id: 'a', dms_id: 'dms', tags: ['x'] });
  await devices.register({ id: 'b', dms_id: 'dms', tags: ['x', 'y'] });
  // a: done (the outcome in the device's transaction); b: skipped (the outcome written alone).
  await jobs.create({ filter: ['tags[ct]x'], action: { type: 'add-tags', tags: ['y'] } });
  await jobs.create({ filter: ['tags[ct]x'], action: { type: 'decommission' }, dry_run: true });
  const context = { deadline: Date.now() + 60_000, queue: queue(), log: () => undefined };
  while (sent.length > 0) await jobs.handlers()[JOB_TASK]!(sent.shift()!, context);
  const items = (await client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
  return {
    outcomes: items.filter((i) => i.kind === 'job-outcome').map((i) => [JSON.parse(i.doc).outcome, i[TTL_ATTRIBUTE]]),
    jobTtls: items.filter((i) => i.kind === 'job').map((i) => i[TTL_ATTRIBUTE]),
  };
}

describe('job outcome retention', () => {
  it('gives every outcome a TTL of its time plus the retention, and the job item none', async () => {
    const { outcomes, jobTtls } = await run(3);
    const expires = Date.parse('2026-03-15T10:00:00.000Z') / 1000 + 3 * 86_400;
    expect(outcomes.sort()).toEqual([
      ['done', expires],
      ['matched', expires],
      ['matched', expires],
      ['skipped', expires],
    ]);
    expect(jobTtls).toEqual([undefined, undefined]);
  });

  it('keeps outcomes for ever without the setting', async () => {
    const { outcomes } = await run(undefined);
    expect(outcomes.map(([, ttl]) => ttl)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('reads JOB_RETENTION_DAYS (default 90, 1 to 36500)', () => {
    expect(loadConfig({ TABLE_NAME: 't' }).jobRetentionDays).toBe(90);
    expect(loadConfig({ TABLE_NAME: 't', JOB_RETENTION_DAYS: '7' }).jobRetentionDays).toBe(7);
    expect(() => loadConfig({ TABLE_NAME: 't', JOB_RETENTION_DAYS: '0' })).toThrow(/JOB_RETENTION_DAYS/);
  });
});
