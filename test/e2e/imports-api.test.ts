/**
 * End to end: the server-side import over HTTP on the local service, and `import --server-side`,
 * whose summary and report match what the client-side import prints for the same file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli, summaryCounts } from '../support/cli';
import { call, startTestService } from '../support/http';
import type { LocalService } from '../../local/main';

jest.setTimeout(120_000);

let service: LocalService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service.stop();
});

const dir = mkdtempSync(path.join(tmpdir(), 'imports-api-'));
const csv = (prefix: string) =>
  [
    'id,dms_id,tags,icon_color,metadata.n',
    ...Array.from({ length: 30 }, (_, n) => `${prefix}-${n},dms-1,t${n % 3},#112233,${n}`),
    `${prefix}-bad,dms-1,,#zz,1`,
    `${prefix}-ragged,dms-1`,
    '',
  ].join('\n');

async function finished(id: string) {
  for (;;) {
    const reply = await call(service.url, 'GET', `/v2/imports/${id}`);
    if (reply.body.status !== 'RUNNING') return reply;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('server-side import over HTTP', () => {
  it('takes the file as the body, imports it, and reports what did not go in, a page at a time', async () => {
    const started = await call(service.url, 'POST', '/v2/imports', csv('body'), { 'content-type': 'text/csv' });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/v2/imports/${started.body.id}`);
    const done = await finished(started.body.id);
    expect(done.body).toMatchObject({
      status: 'DONE',
      lines: 32,
      counts: { created: 30, invalid: 2, conflict: 0, failed: 0 },
    });
    const first = await call(service.url, 'GET', `/v2/imports/${started.body.id}?page_size=1`);
    expect(first.body.report).toEqual([
      expect.objectContaining({ line: 32, id: 'body-bad', outcome: 'invalid', status: 400, code: 'VALIDATION_ERROR' }),
    ]);
    const second = await call(
      service.url,
      'GET',
      `/v2/imports/${started.body.id}?page_size=1&bookmark=${first.body.next}`,
    );
    expect(second.body.report).toEqual([expect.objectContaining({ line: 33, outcome: 'invalid' })]);
    expect((await call(service.url, 'GET', '/v2/devices/body-7')).body).toMatchObject({
      tags: ['t1'],
      metadata: { n: 7 },
    });
  });

  it('gives an upload URL, refuses a start before the upload, refuses bad requests in the error shape', async () => {
    const created = await call(service.url, 'POST', '/v2/imports', { format: 'ndjson' });
    expect(created.status).toBe(201);
    expect(created.body.import.status).toBe('AWAITING_UPLOAD');
    const early = await call(service.url, 'POST', `/v2/imports/${created.body.import.id}/start`);
    expect(early).toMatchObject({ status: 409, body: { code: 'INVALID_STATE' } });
    const forged = await fetch(created.body.upload.url.replace(/token=[^&]+/, 'token=forged'), {
      method: 'PUT',
      body: '{}',
    });
    expect(forged.status).toBe(403);
    const put = await fetch(created.body.upload.url, { method: 'PUT', body: '{"id":"nd-1","dms_id":"d"}\n' });
    expect(put.status).toBe(200);
    const started = await call(service.url, 'POST', `/v2/imports/${created.body.import.id}/start`);
    expect(started.status).toBe(202);
    expect((await finished(created.body.import.id)).body.counts).toMatchObject({ created: 1 });

    expect(await call(service.url, 'POST', '/v2/imports', { format: 'xml' })).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_ERROR' },
    });
    expect((await call(service.url, 'POST', '/v2/imports', 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call(service.url, 'GET', '/v2/imports/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('import --server-side prints the summary and writes the report the client-side import does', async () => {
    const file = path.join(dir, 'fleet.csv');
    writeFileSync(file, csv('cli'));
    const clientReport = path.join(dir, 'client.ndjson');
    const serverReport = path.join(dir, 'server.ndjson');
    const client = await cli(['import', file, '--api', service.url, '--report', clientReport]);
    // The same file again, server-side: every device exists now and is the same.
    const server = await cli(['import', file, '--server-side', '--api', service.url, '--report', serverReport]);
    expect(summaryCounts(client.stdout)).toMatchObject({ created: 30, invalid: 2 });
    expect(summaryCounts(server.stdout)).toMatchObject({ unchanged: 30, invalid: 2 });
    expect([client.code, server.code]).toEqual([1, 1]);
    const lines = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        // The client-side report is written as lines finish; the server's is in line order.
        .sort((a, b) => a.line - b.line);
    expect(lines(serverReport)).toEqual(lines(clientReport));
  });
});

describe('server-side import on a worker thread (IMPORT_THREADS=1)', () => {
  it('gives the rows, the report and the devices the main thread gives', async () => {
    /** A file's import (ids without their prefix), and one of its devices without its times. */
    const outcome = async (on: LocalService, prefix: string) => {
      const started = await call(on.url, 'POST', '/v2/imports', csv(prefix), { 'content-type': 'text/csv' });
      expect(started.status).toBe(202);
      for (;;) {
        const reply = await call(on.url, 'GET', `/v2/imports/${started.body.id}`);
        if (reply.body.status !== 'RUNNING') {
          const {
            creation_timestamp: _t,
            events: _e,
            ...device
          } = (await call(on.url, 'GET', `/v2/devices/${prefix}-7`)).body;
          const { id: _id, created_at: _c, started_at: _s, finished_at: _f, ...view } = reply.body;
          return JSON.parse(JSON.stringify({ view, device }).replaceAll(`${prefix}-`, 'x-'));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const main = await outcome(service, 'main');
    // Started last: the services one process installs are those of its last start (composition.ts).
    const threaded = await startTestService({ IMPORT_THREADS: '1' });
    try {
      const thread = await outcome(threaded, 'thread');
      expect(thread.view).toMatchObject({ status: 'DONE', counts: { created: 30, invalid: 2 } });
      expect(thread).toEqual(main);
    } finally {
      await threaded.stop();
    }
  });
});
