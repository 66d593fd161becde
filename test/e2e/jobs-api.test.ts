/**
 * Remediation jobs end to end over HTTP: the local service runs a job on its in-process job worker;
 * every job route, its documented errors, and the job's events on the local bus.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalService } from '../../local/main';
import { call, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService({ LOCAL_EVENTS_FILE: join(mkdtempSync(join(tmpdir(), 'jobs-')), 'events.ndjson') });
  for (let i = 0; i < 6; i++) {
    const r = await call(service.url, 'POST', '/v2/devices', {
      id: `job-dev-${i}`,
      dms_id: 'dms-jobs',
      tags: i < 4 ? ['line-3'] : ['line-4'],
    });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  await service.stop();
});

describe('remediation jobs over HTTP', () => {
  it('POST /v2/jobs → 202 PENDING; the job runs to SUCCEEDED with per-device outcomes and job.* events', async () => {
    const created = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['tags[ct]line-3'],
      action: { type: 'merge-metadata', metadata: { quarantined: true } },
      rate_per_second: 200,
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'PENDING', dry_run: false, counts: { matched: 0 } });
    expect(created.headers.get('location')).toBe(`/v2/jobs/${created.body.id}`);
    await service.tasksIdle();

    const job = await call(service.url, 'GET', `/v2/jobs/${created.body.id}`);
    expect(job.body).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 4, done: 4, skipped: 0, failed: 0 } });
    const outcomes = await call(service.url, 'GET', `/v2/jobs/${created.body.id}/devices?page_size=3`);
    expect(outcomes.body.list.map((o: { device_id: string }) => o.device_id)).toEqual([
      'job-dev-0',
      'job-dev-1',
      'job-dev-2',
    ]);
    const rest = await call(
      service.url,
      'GET',
      `/v2/jobs/${created.body.id}/devices?page_size=3&bookmark=${encodeURIComponent(outcomes.body.next)}`,
    );
    expect(rest.body).toMatchObject({ next: '', list: [{ device_id: 'job-dev-3', outcome: 'done' }] });
    expect((await call(service.url, 'GET', '/v2/devices/job-dev-0')).body.metadata).toEqual({ quarantined: true });
    expect((await call(service.url, 'GET', '/v2/devices/job-dev-4')).body.metadata).toEqual({});

    const listed = await call(service.url, 'GET', '/v2/jobs');
    expect(listed.body.list.map((j: { id: string }) => j.id)).toContain(created.body.id);

    await service.events.drain();
    const events = readFileSync(service.events.file!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { detail: { type: string; subject: string; data: any } }).detail)
      .filter((e) => e.subject === `job/${created.body.id}`);
    expect(events.map((e) => `${e.type} ${e.data.updated?.status ?? ''}`)).toEqual([
      'job.create ',
      'job.status.update RUNNING',
      'job.status.update SUCCEEDED',
    ]);
    expect(events[2]!.data.counts).toEqual({ matched: 4, done: 4, skipped: 0, failed: 0 });

    const cancel = await call(service.url, 'POST', `/v2/jobs/${created.body.id}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('JOB_FINISHED');
  });

  it('refuses bad selections and actions with 400 naming the field, and unknown jobs with 404', async () => {
    const noFilter = await call(service.url, 'POST', '/v2/jobs', { filter: [], action: { type: 'decommission' } });
    expect(noFilter.status).toBe(400);
    expect(noFilter.body.details[0].field).toBe('filter');
    const badFilter = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['colour[eq]red'],
      action: { type: 'decommission' },
    });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.details).toEqual([{ field: 'filter[0]', problem: expect.any(String) }]);
    const badAction = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['tags[ct]x'],
      action: { type: 'reboot' },
    });
    expect(badAction.status).toBe(400);
    const badRate = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['tags[ct]x'],
      action: { type: 'decommission' },
      rate_per_second: 0,
    });
    expect(badRate.status).toBe(400);
    expect((await call(service.url, 'GET', '/v2/jobs/job-unknown')).status).toBe(404);
    expect((await call(service.url, 'GET', '/v2/jobs/bad%20id/devices')).status).toBe(404);
    expect((await call(service.url, 'POST', '/v2/jobs/job-unknown/cancel')).status).toBe(404);
  });

  it('a dry run changes nothing; a cancelled job stays CANCELLED', async () => {
    const dry = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['tags[ct]line-4'],
      action: { type: 'decommission' },
      dry_run: true,
    });
    await service.tasksIdle();
    expect((await call(service.url, 'GET', `/v2/jobs/${dry.body.id}`)).body).toMatchObject({
      status: 'SUCCEEDED',
      counts: { matched: 2, done: 0 },
    });
    expect((await call(service.url, 'GET', '/v2/devices/job-dev-5')).body.status).toBe('NO_IDENTITY');

    const slow = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['dms_owner[eq]dms-jobs'],
      action: { type: 'add-tags', tags: ['slow'] },
      rate_per_second: 1,
    });
    const cancelled = await call(service.url, 'POST', `/v2/jobs/${slow.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    await service.tasksIdle();
    const job = (await call(service.url, 'GET', `/v2/jobs/${slow.body.id}`)).body;
    expect(job.status).toBe('CANCELLED');
    // At 1 device a second a page is 2 devices: the walk stops after the page in flight, if any.
    expect(job.counts.done).toBeLessThanOrEqual(2);
  });
});
