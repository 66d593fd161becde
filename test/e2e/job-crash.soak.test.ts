/**
 * `kill -9` of the local service in the middle of a remediation job, then a restart on the same data
 * folder: the real local/main.ts runs as a child process; the job (a tag added to every device, at 10
 * devices a second) is killed after its first stored page, while a later page is in flight. The
 * restarted service resumes the job at start; it ends SUCCEEDED with every device changed exactly
 * once (version 2, the tag once, one `device.update` event id per device) and exact counts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnLocalService, type ChildService } from '../support/child-service';
import { call } from '../support/http';

const DEVICES = 60;
const RATE = 10;

let dir: string;
const children: ChildService[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-crash-'));
});
afterAll(async () => {
  for (const service of children) service.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function startService(): Promise<ChildService> {
  const service = await spawnLocalService({
    DATA_DIR: join(dir, 'dynamodb'),
    LOCAL_EVENTS_FILE: join(dir, 'events.ndjson'),
    TABLE_NAME: 'job-crash',
  });
  children.push(service);
  return service;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the job until `done` says so (at most `seconds`), returning the last view. */
async function jobUntil(url: string, id: string, done: (job: any) => boolean, seconds: number): Promise<any> {
  for (let i = 0; i < seconds * 5; i++) {
    const job = (await call(url, 'GET', `/v2/jobs/${id}`)).body;
    if (done(job)) return job;
    await sleep(200);
  }
  throw new Error(`job ${id} did not get there in ${seconds} s`);
}

test('a job killed mid-page resumes after the restart and changes every device exactly once', async () => {
  const first = await startService();
  for (let i = 0; i < DEVICES; i += 10)
    await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        call(first.url, 'POST', '/v2/devices', { id: `crash-${String(i + k).padStart(3, '0')}`, dms_id: 'd' }),
      ),
    );
  const created = await call(first.url, 'POST', '/v2/jobs', {
    filter: ['dms_owner[eq]d'],
    action: { type: 'add-tags', tags: ['fixed'] },
    rate_per_second: RATE,
  });
  expect(created.status).toBe(202);
  const id = created.body.id as string;
  // A page is 2 seconds' worth (20 devices): once one is stored, the next is in flight.
  const before = await jobUntil(first.url, id, (job) => job.counts.matched >= 20, 60);
  await sleep(800);
  first.kill('SIGKILL');
  expect(await first.exited).toBeNull();
  expect(before.status).toBe('RUNNING');

  const second = await startService();
  try {
    const job = await jobUntil(second.url, id, (j) => j.status !== 'RUNNING', 120);
    expect(job).toMatchObject({ status: 'SUCCEEDED', counts: { matched: DEVICES, done: DEVICES, skipped: 0 } });
    const outcomes = (await call(second.url, 'GET', `/v2/jobs/${id}/devices?page_size=1000`)).body.list;
    expect(outcomes).toHaveLength(DEVICES);
    for (let i = 0; i < DEVICES; i++) {
      const device = (await call(second.url, 'GET', `/v2/devices/crash-${String(i).padStart(3, '0')}`)).body;
      expect(device).toMatchObject({ version: 2, tags: ['fixed'] });
    }
  } finally {
    second.kill('SIGTERM');
    await second.exited;
  }
  // One device.update per device (a replay after the crash may repeat an event, with the same id).
  const updates = new Map<string, Set<string>>();
  for (const line of (await readFile(join(dir, 'events.ndjson'), 'utf8')).split('\n').filter(Boolean)) {
    const { detail } = JSON.parse(line) as { detail: { id: string; type: string; subject: string } };
    if (detail.type !== 'device.update') continue;
    updates.set(detail.subject, (updates.get(detail.subject) ?? new Set()).add(detail.id));
  }
  expect(updates.size).toBe(DEVICES);
  expect([...updates.values()].every((ids) => ids.size === 1)).toBe(true);
});
