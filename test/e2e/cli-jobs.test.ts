/** `device-manager jobs start|watch|cancel` against the local service (its in-process job worker). */
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { cli } from '../support/cli';
import { call, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService();
  for (let i = 0; i < 5; i++)
    await call(service.url, 'POST', '/v2/devices', { id: `cli-job-${i}`, dms_id: 'dms-cli', tags: ['old'] });
});
afterAll(async () => {
  await service.stop();
});

describe('device-manager jobs', () => {
  it('start --watch runs a job to the end and prints its counts; exit 0', async () => {
    const run = await cli([
      'jobs',
      'start',
      '--api',
      service.url,
      '--filter',
      'dms_owner[eq]dms-cli',
      '--action',
      'add-tags',
      '--tag',
      'new',
      '--rate',
      '100',
      '--watch',
      '--interval',
      '1',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [id, summary] = run.stdout.trim().split('\n');
    expect(id).toMatch(/^job-/);
    expect(summary).toBe(`job ${id} SUCCEEDED: matched 5 done 5 skipped 0 failed 0`);
    expect((await call(service.url, 'GET', '/v2/devices/cli-job-3')).body.tags).toEqual(['old', 'new']);

    const watched = await cli(['jobs', 'watch', id!, '--api', service.url]);
    expect(watched).toMatchObject({ code: 0, stdout: `${summary}\n` });
    const cancel = await cli(['jobs', 'cancel', id!, '--api', service.url]);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toMatch(/409 JOB_FINISHED/);
  });

  it('cancel stops a running job; watch then exits 1 with CANCELLED', async () => {
    const started = await cli([
      'jobs',
      'start',
      '--api',
      service.url,
      '--filter',
      'tags[ct]old',
      '--action',
      'remove-tags',
      '--tag',
      'old',
      '--rate',
      '1',
    ]);
    const id = started.stdout.trim();
    const cancelled = await cli(['jobs', 'cancel', id, '--api', service.url]);
    expect(cancelled).toMatchObject({ code: 0 });
    expect(cancelled.stdout).toMatch(new RegExp(`^job ${id} CANCELLED: `));
    const watched = await cli(['jobs', 'watch', id, '--api', service.url, '--interval', '1']);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(/CANCELLED/);
  });

  it('refuses incomplete requests before calling the API (exit 2)', async () => {
    const noTag = await cli(['jobs', 'start', '--api', service.url, '--filter', 'id[eq]x', '--action', 'add-tags']);
    expect(noTag).toMatchObject({ code: 2, stdout: '' });
    expect(noTag.stderr).toMatch(/needs --tag/);
    const noFilter = await cli(['jobs', 'start', '--api', service.url, '--action', 'decommission']);
    expect(noFilter.code).toBe(2);
    expect(noFilter.stderr).toMatch(/at least one --filter/);
    const both = await cli([
      ...['jobs', 'start', '--api', service.url, '--filter', 'id[eq]x'],
      ...['--finding', 'weak-key', '--action', 'decommission'],
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --finding/);
    expect((await call(service.url, 'GET', '/v2/jobs')).body.list).toHaveLength(2);
  });

  it('start --finding acts on the devices with that posture check open', async () => {
    const policy = { max_validity_days: 30 };
    expect((await call(service.url, 'PUT', '/v2/posture/policy', policy)).status).toBe(200);
    await service.sweepNow(); // the findings' first assessment
    // Valid for about 3 years: validity-too-long under the policy above.
    const { pem } = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2029-01-01T00:00:00Z' });
    expect((await call(service.url, 'PUT', '/v2/devices/cli-job-2/idslot', { certificate: pem })).status).toBe(200);
    const args = ['jobs', 'start', '--api', service.url, '--finding', 'validity-too-long'];
    const run = await cli([...args, '--action', 'add-tags', '--tag', 'flagged', '--watch', '--interval', '1']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [id, summary] = run.stdout.trim().split('\n');
    expect(summary).toBe(`job ${id} SUCCEEDED: matched 1 done 1 skipped 0 failed 0`);
    expect((await call(service.url, 'GET', `/v2/jobs/${id}`)).body).toMatchObject({
      filter: [],
      finding: 'validity-too-long',
    });
    expect((await call(service.url, 'GET', '/v2/devices/cli-job-2')).body.tags).toContain('flagged');
    expect((await call(service.url, 'GET', '/v2/devices/cli-job-1')).body.tags).not.toContain('flagged');
  });
});
