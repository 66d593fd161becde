/**
 * The server-side import on the real adapters and the embedded engine: rows get the command line's
 * outcomes, a piece delivered twice counts once, and an import whose tasks were lost in a crash is
 * finished by starting it again, every row counted exactly once.
 */
import { randomUUID } from 'node:crypto';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import type { Device } from '../../../functions/domain/device';
import { deviceSubject, type OutboxEvent } from '../../../functions/domain/outbox';
import { importStore } from '../../../functions/adapters/dynamodb/import-store';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../../functions/app/devices';
import { IMPORT_TASKS, importHandlers, importService, type ImportDeps } from '../../../functions/app/imports';
import type { ImportFiles, Task } from '../../../functions/app/ports';
import { taskRunner } from '../../../functions/app/tasks';
import { errorResponse } from '../../../functions/http/http-errors';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { freshTable, startTestEngine, testClock } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

function memoryFiles(): ImportFiles {
  const files = new Map<string, Buffer>();
  return {
    uploadUrl: async (key) => `memory://${key}`,
    put: async (key, body) => void files.set(key, Buffer.from(body)),
    read: async (key, start = 0, end) => {
      const file = files.get(key);
      return (
        file &&
        (async function* () {
          yield file.subarray(start, end);
        })()
      );
    },
  };
}

async function setup({ rowsPerPiece = 3, batchSize = 2 } = {}) {
  const table = await freshTable(engine);
  const client = table.documentClient;
  const bookmarks = bookmarkCodec('k');
  const clock = testClock();
  const repository = deviceRepository({ client, tableName: table.tableName, listShards: 2, statsShards: 2, bookmarks });
  const policies = policyRepository({ client, tableName: table.tableName, bookmarks });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  // The import's calls of the use cases, counted by name.
  const calls: Record<string, number> = {};
  const counted = new Proxy(devices, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(key)] = (calls[String(key)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const deps: ImportDeps = {
    imports: importStore({ client, tableName: table.tableName }),
    files: memoryFiles(),
    devices: counted,
    clock,
    newId: randomUUID,
    answerOf: (error) => {
      const { statusCode, body } = errorResponse(error);
      return { status: statusCode, ...body };
    },
    rowsPerPiece,
    batchSize,
  };
  const run = taskRunner(importHandlers(deps));
  const sent: Task[] = [];
  const queue = { send: async (tasks: readonly Task[]) => void sent.push(...tasks) };
  const context = { deadline: Date.now() + 60_000, queue, log: () => undefined };
  /** Runs queued tasks until none is left, or `limit` tasks ran (a crash: the rest is lost). */
  const work = async (limit = Infinity) => {
    let ran = 0;
    while (sent.length > 0 && ran < limit) {
      await run(sent.shift()!, context);
      ran++;
    }
    sent.length = 0;
  };
  const service = importService({ ...deps, queue: () => queue });
  return { deps, devices, service, run, sent, context, work, clock, calls, table };
}

const csv = (lines: string[]) => ['id,dms_id,tags,metadata.n', ...lines].join('\n');

describe('server-side import', () => {
  it('gives each row the outcome the command line gives it, with the same report lines', async () => {
    const s = await setup();
    await s.devices.register({ id: 'same', dms_id: 'dms', tags: ['t'], metadata: { n: 1 } });
    await s.devices.register({ id: 'other', dms_id: 'elsewhere' });
    await s.devices.register({ id: 'patched', dms_id: 'dms', tags: ['old'] });
    // Devices created before the import started are never its own.
    s.clock.advance(1000);
    const pem = (await certificate({ notAfter: '2027-06-01T00:00:00Z', notBefore: '2026-01-01T00:00:00Z' })).pem;
    const file = [
      'id,dms_id,tags,metadata.n,certificate',
      'new-1,dms,t,1,',
      'same,dms,t,1,',
      'other,dms,,,',
      'bad id!,dms,,,',
      'patched,dms,new,,',
      `with-cert,dms,,,"${pem}"`,
      'ragged,dms',
      'new-2,dms,,,',
    ].join('\n');
    const started = await s.service.createWith('csv', false, Buffer.from(file));
    expect(started.status).toBe('RUNNING');
    await s.work();
    const view = await s.service.view(started.id);
    expect(view).toMatchObject({
      status: 'DONE',
      lines: 8,
      counts: { created: 3, unchanged: 1, updated: 0, conflict: 2, invalid: 2, failed: 0 },
    });
    expect(view.report.map((r) => [r.line, r.outcome, r.status, r.code])).toEqual([
      [4, 'conflict', 409, 'CONFLICT'],
      [5, 'invalid', 400, 'VALIDATION_ERROR'],
      [6, 'conflict', 409, 'CONFLICT'],
      [17, 'invalid', undefined, undefined],
    ]);
    expect(view.report[0]!.differences).toEqual(['dms_owner']);
    expect((await s.devices.get('with-cert')).identity?.status).toBe('ACTIVE');

    // With update, the differing device is patched.
    const again = await s.service.createWith('csv', true, Buffer.from(csv(['patched,dms,new,'])));
    await s.work();
    expect((await s.service.view(again.id)).counts).toMatchObject({ updated: 1 });
    expect((await s.devices.get('patched')).tags).toEqual(['new']);
  });

  it('reads the devices a re-run meets a batch at a time (BatchGetItem), never one GetItem a row', async () => {
    const s = await setup({ rowsPerPiece: 12 });
    const file = Buffer.from(csv(Array.from({ length: 12 }, (_, n) => `re-${n},d,t,${n}`)));
    await s.service.createWith('csv', false, file);
    await s.work();
    for (const key of Object.keys(s.calls)) delete s.calls[key];
    s.clock.advance(1000);
    const again = await s.service.createWith('csv', false, file);
    await s.work();
    expect((await s.service.view(again.id)).counts).toMatchObject({ unchanged: 12, created: 0 });
    // 6 batches of 2: the first 4 (in flight together) are refused as registrations and read in one
    // call; the 2 started after them read first, since most devices met so far existed.
    expect(s.calls.get ?? 0).toBe(0);
    expect(s.calls.register ?? 0).toBe(0);
    expect(s.calls.registerNew).toBe(4);
    expect(s.calls.getMany).toBe(3);
  });

  it('writes the events of devices registered together in shared outbox records, the same events', async () => {
    const s = await setup({ rowsPerPiece: 20, batchSize: 8 });
    const lone = await s.devices.register({ id: 'lone', dms_id: 'd', tags: ['t'], metadata: { n: 0 } });
    await s.service.createWith('csv', false, Buffer.from(csv(Array.from({ length: 20 }, (_, n) => `b-${n},d,t,${n}`))));
    await s.work();
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await s.table.documentClient.send(
        new ScanCommand({ TableName: s.table.tableName, ExclusiveStartKey: start }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    const outbox = items.filter((i) => i.kind === 'outbox');
    // One record for the lone registration, one for each registerNew of 8, 8 and 4 devices.
    expect(outbox).toHaveLength(4);
    const lists = outbox.map((i) =>
      i.events === undefined
        ? [JSON.parse(outboxEventJson(i.event as Uint8Array)) as OutboxEvent]
        : (JSON.parse(outboxEventJson(i.events as Uint8Array)) as OutboxEvent[]),
    );
    expect(lists.map((list) => list.length).sort()).toEqual([1, 4, 8, 8]);
    // Each record is keyed by its first event, as a record of one event is.
    expect(outbox.map((i) => i.pk)).toEqual(lists.map((list) => `OUTBOX#${list[0]!.id}`));
    const events = lists.flat();
    expect(new Set(events.map((e) => e.id)).size).toBe(21);
    const byId = new Map(events.map((e) => [(e.data as Device).id, e]));
    expect(byId.get('lone')).toMatchObject({ type: 'device.create', subject: deviceSubject('lone'), data: lone });
    for (let n = 0; n < 20; n++) {
      const device = await s.devices.get(`b-${n}`);
      expect(byId.get(`b-${n}`)).toEqual({
        id: expect.any(String),
        type: 'device.create',
        subject: deviceSubject(`b-${n}`),
        time: device.creation_timestamp,
        data: device,
      });
    }
  });

  it('counts a piece delivered twice once', async () => {
    const s = await setup({ rowsPerPiece: 2 });
    const started = await s.service.createWith('csv', false, Buffer.from(csv(['a,d,,', 'b,d,,', 'c,d,,'])));
    await s.run(s.sent.shift()!, s.context);
    const pieces = [...s.sent];
    expect(pieces.map((t) => t.kind)).toEqual([IMPORT_TASKS.piece, IMPORT_TASKS.piece]);
    for (const task of [...pieces, pieces[0]!]) await s.run(task, s.context);
    expect(await s.service.view(started.id)).toMatchObject({ status: 'DONE', lines: 3, counts: { created: 3 } });
  });

  it('finishes an import whose tasks were lost when started again, each row counted once', async () => {
    const s = await setup({ rowsPerPiece: 2 });
    const lines = Array.from({ length: 9 }, (_, n) => `r-${n},d,,${n}`);
    const started = await s.service.createWith('csv', false, Buffer.from(csv(lines)));
    // The plan and two pieces ran; the three other pieces were lost (a crash).
    await s.work(3);
    const midway = await s.service.view(started.id);
    expect(midway).toMatchObject({ status: 'RUNNING', pieces: 5, pieces_done: 2, lines: 4 });
    // A piece cut short: its first row went in before the crash, its marker never did.
    await s.devices.register({ id: 'r-6', dms_id: 'd', metadata: { n: 6 } });
    await s.service.start(started.id);
    await s.work();
    expect(await s.service.view(started.id)).toMatchObject({
      status: 'DONE',
      pieces_done: 5,
      lines: 9,
      counts: { created: 9, unchanged: 0 },
    });
  });

  it('refuses to start an import without its file, and fails one whose CSV header is unusable', async () => {
    const s = await setup();
    const { import: waiting } = await s.service.create('csv', false);
    await expect(s.service.start(waiting.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(s.service.view('nope')).rejects.toMatchObject({ code: 'IMPORT_NOT_FOUND' });
    const broken = await s.service.createWith('csv', false, Buffer.from('id,colour\na,b\n'));
    await s.work();
    expect(await s.service.view(broken.id)).toMatchObject({
      status: 'FAILED',
      error: { code: 'INVALID_IMPORT_FILE' },
    });
  });
});
