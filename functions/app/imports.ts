/**
 * Server-side import (docs/api.md, Server-side import): a CSV or NDJSON file uploaded once, cut into
 * pieces by a plan task, each piece imported by a worker of the jobs queue (app/tasks.ts). Every row
 * ends with the outcome the command line's `import` gives it (created, unchanged, updated, conflict,
 * invalid, failed) and the same report line; new devices are registered several to a transaction.
 *
 * Resumable and idempotent: a piece records its counts once (a marker written with the import's
 * counts in one transaction), a redelivered piece whose marker exists does nothing, and a piece cut
 * short by a crash is imported again row by row, where a row whose device already is what it says is
 * `unchanged` (or `created`, when the device was created after the import started). Starting a running
 * import again re-plans it: pieces already done are skipped.
 */
import { parseCertificate } from '../domain/certificate';
import type { Device, NewDeviceInput } from '../domain/device';
import { ImportNotFoundError, InvalidStateError, ValidationError } from '../domain/errors';
import type { ExistingDevice } from '../domain/import-compare';
import { type FilePiece, type ImportFormat, planFile, rowsOfPiece } from '../domain/import-file';
import {
  type DeviceRow,
  type FieldProblem,
  GOOD_OUTCOMES,
  ImportFileError,
  type LineResult,
  OUTCOMES,
  type SourceItem,
} from '../domain/import-rows';
import { IDENTITY_SLOT, revocationReasonOf, REVOCATION_REASONS } from '../domain/slots';
import type { DeviceService } from './devices';
import {
  type Answer,
  completeCreated,
  reconcileRow,
  refusalOf,
  type RowCertificate,
  type RowDevices,
} from './import-reconcile';
import type { Clock, IdGenerator, ImportFiles, ImportRecord, ImportStore, Task, TaskQueue } from './ports';
import type { TaskCounts, TaskHandler } from './tasks';

export const IMPORT_TASKS = { plan: 'import.plan', piece: 'import.piece' } as const;

/** What the API answers for an error (functions/http/http-errors.ts): the report says what the API would. */
export type ErrorAnswer = (error: unknown) => { status: number; code: string; err: string; details?: FieldProblem[] };

export interface ImportDeps {
  imports: ImportStore;
  files: ImportFiles;
  devices: Pick<
    DeviceService,
    'register' | 'registerNew' | 'get' | 'getMany' | 'patch' | 'bind' | 'revoke' | 'decommission'
  >;
  clock: Clock;
  newId: IdGenerator;
  answerOf: ErrorAnswer;
  /** Records per piece (one task each). */
  rowsPerPiece?: number;
  /** Devices registered per call of `registerNew`, and rows of a piece in flight at once. */
  batchSize?: number;
  concurrency?: number;
}

export const DEFAULT_ROWS_PER_PIECE = 200;
/**
 * New devices per call of `registerNew`: 16 plain devices (6 items each, plus their shared outbox record)
 * fit one transaction.
 */
export const DEFAULT_BATCH_SIZE = 16;
/** Seconds an upload URL stays valid. */
export const UPLOAD_URL_SECONDS = 3600;

interface PieceTask extends Task, FilePiece {
  id: string;
  piece: number;
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function textOf(bytes: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of bytes) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

/** The use cases as a row's device operations, each error answered as the API answers it. */
export function rowDevices({ devices, answerOf }: Pick<ImportDeps, 'devices' | 'answerOf'>): RowDevices {
  const attempt = async <T>(run: () => Promise<T>): Promise<Answer<T>> => {
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      return { ok: false, ...answerOf(error) };
    }
  };
  const version = async (change: Promise<Device>) => (await change).version;
  return {
    get: (id) => attempt(() => devices.get(id)),
    patch: (id, patch, ifMatch) =>
      attempt(() => version(devices.patch(id, 'application/json-patch+json', patch, ifMatch))),
    bind: (id, pem, ifMatch) =>
      attempt(() =>
        version(devices.bind(id, IDENTITY_SLOT, { type: 'x509', certificate: parseCertificate(pem) }, ifMatch)),
      ),
    revoke: (id, reason, ifMatch) =>
      attempt(() => {
        const known = revocationReasonOf(reason);
        if (!known)
          throw new ValidationError('unknown revocation reason', [
            { field: 'reason', problem: `must be one of ${REVOCATION_REASONS.join(', ')}` },
          ]);
        return version(devices.revoke(id, IDENTITY_SLOT, known, ifMatch));
      }),
    decommission: (id, ifMatch) => attempt(() => version(devices.decommission(id, ifMatch))),
  };
}

/** Imports rows with the use cases, each row to one outcome, as the command line's `import` does over HTTP. */
export function rowImporter(deps: ImportDeps, { update, since }: { update: boolean; since: string }) {
  const { devices, answerOf, batchSize = DEFAULT_BATCH_SIZE, concurrency = 8 } = deps;
  const port = rowDevices(deps);
  // A piece cut short by a crash meets the devices it created: they count as created again.
  const options = { update, updateHint: 'update', ours: (d: ExistingDevice) => (d.creation_timestamp ?? '') >= since };
  const refusal = (row: DeviceRow, error: unknown) => refusalOf(row, { ok: false, ...answerOf(error) });

  const certificateOf = (pem: string | undefined): RowCertificate | undefined => {
    if (pem === undefined) return undefined;
    try {
      return { pem, serial: parseCertificate(pem).serial_number };
    } catch {
      return { pem };
    }
  };

  /** A row alone whose device was not found: register it (a device made meanwhile is reconciled). */
  const single = async (row: DeviceRow, input: NewDeviceInput, cert: RowCertificate | undefined) => {
    try {
      return await completeCreated(port, row, cert, (await devices.register(input)).version);
    } catch (error) {
      if (answerOf(error).code === 'DEVICE_ALREADY_EXISTS') return reconcileRow(port, row, cert, options);
      return refusal(row, error);
    }
  };

  /** Every item to exactly one outcome, in the items' order. */
  return async function importItems(items: readonly SourceItem[]): Promise<LineResult[]> {
    // Loaded on first use: the request schemas evaluate zod, which the job and import routes, the sweeper
    // and the task worker bundle this module for but do not use at their cold start.
    // A require, not import(): the local service's import threads load this module through tsx's require hook.
    const { createDeviceSchema, problemsOf } = require('../domain/schemas') as typeof import('../domain/schemas');
    const results = new Map<SourceItem, LineResult>();
    const ready: { item: SourceItem; row: DeviceRow; input: NewDeviceInput; cert?: RowCertificate }[] = [];
    for (const item of items) {
      if ('invalid' in item) {
        results.set(item, { ...item.invalid, outcome: 'invalid' });
        continue;
      }
      const { row } = item;
      if (row.certificate && 'file' in row.certificate) {
        results.set(item, {
          line: row.line,
          id: row.id,
          outcome: 'invalid',
          err: 'certificate file not readable',
          details: [
            {
              field: 'certificate',
              problem: 'a server-side import reads certificates inline (PEM text in the cell), not from files',
            },
          ],
        });
        continue;
      }
      const parsed = createDeviceSchema.safeParse(row.create);
      if (!parsed.success) {
        results.set(item, refusal(row, new ValidationError('invalid device', problemsOf(parsed.error))));
        continue;
      }
      // The row's own metadata: zod's copy would drop an own `__proto__` key (as the create route does).
      const input = { ...parsed.data, metadata: row.create.metadata } as NewDeviceInput;
      ready.push({ item, row, input, cert: certificateOf(row.certificate?.pem) });
    }
    type Entry = (typeof ready)[number];
    const met = async (entry: Entry, device: Device) =>
      results.set(entry.item, await reconcileRow(port, entry.row, entry.cert, options, device));
    const batches: Entry[][] = [];
    for (let i = 0; i < ready.length; i += batchSize) batches.push(ready.slice(i, i + batchSize));
    const alone: Entry[] = [];
    // Once most devices of this piece existed (a re-run), a batch reads its devices first: one
    // BatchGetItem for the batch, and only the missing ones are registered.
    let existed = 0;
    let fresh = 0;
    await pool(batches, Math.max(1, Math.floor(concurrency / 2)), async (batch) => {
      let missing = batch;
      if (existed > fresh) {
        const found = await devices.getMany(batch.map((entry) => entry.input.id));
        missing = batch.filter((entry) => !found.has(entry.input.id));
        existed += batch.length - missing.length;
        await Promise.all(batch.filter((e) => found.has(e.input.id)).map((e) => met(e, found.get(e.input.id)!)));
        if (missing.length === 0) return;
      }
      const { created: made, refused } = await devices.registerNew(missing.map((r) => r.input));
      const refusedIds = new Set(refused);
      const byId = new Map(made.map((device) => [device.id, device]));
      fresh += made.length;
      existed += refused.length;
      for (const entry of missing) {
        const device = byId.get(entry.input.id);
        if (device && !refusedIds.has(entry.input.id))
          results.set(entry.item, await completeCreated(port, entry.row, entry.cert, device.version));
        else alone.push(entry);
      }
    });
    // The refused batches' devices, read together (a refused transaction wrote none of its devices).
    const found = alone.length > 0 ? await devices.getMany(alone.map((entry) => entry.input.id)) : new Map();
    await pool(alone, concurrency, async (entry) => {
      const device = found.get(entry.input.id);
      try {
        if (device) await met(entry, device);
        else results.set(entry.item, await single(entry.row, entry.input, entry.cert));
      } catch (error) {
        results.set(entry.item, refusal(entry.row, error));
      }
    });
    return items.map((item) => results.get(item)!);
  };
}

export interface ImportView extends Omit<ImportRecord, 'file' | 'header'> {
  /** Rows with an outcome so far. */
  lines: number;
  /** Rows that did not go in (the command line's `--report` lines), a page at a time. */
  report: LineResult[];
  /** The bookmark of the report's next page ("" on the last). */
  next: string;
}

/** The import routes' use cases. */
export function importService(deps: ImportDeps & { queue: () => TaskQueue }) {
  // `deps.files` is read when used: the bucket's client is built on first use.
  const { imports, clock, newId, queue } = deps;

  const load = async (id: string): Promise<ImportRecord> => {
    const record = await imports.get(id);
    if (!record) throw new ImportNotFoundError(id);
    return record;
  };

  const plan = (id: string) => queue().send([{ kind: IMPORT_TASKS.plan, id }]);

  const newRecord = (format: ImportFormat, update: boolean): ImportRecord => {
    const id = newId();
    return {
      id,
      format,
      update,
      file: `imports/${id}`,
      status: 'AWAITING_UPLOAD',
      created_at: clock.now().toISOString(),
      pieces_done: 0,
      counts: Object.fromEntries(OUTCOMES.map((o) => [o, 0])),
    };
  };

  async function start(id: string): Promise<ImportView> {
    const record = await load(id);
    if (record.status === 'DONE' || record.status === 'FAILED')
      throw new InvalidStateError(`import ${id} is ${record.status}`);
    if (record.status === 'AWAITING_UPLOAD') {
      const head = await deps.files.read(record.file, 0, 1);
      if (!head) throw new InvalidStateError(`import ${id}: upload the file before starting it`);
      for await (const _ of head) break;
      await imports.start(id, clock.now().toISOString());
    }
    // A running import is planned again: pieces done are skipped, the others are sent again (a resume).
    await plan(id);
    return view(id);
  }

  async function view(id: string, pageSize = 100, bookmark?: string): Promise<ImportView> {
    let after: number | undefined;
    if (bookmark !== undefined && bookmark !== '') {
      after = Number(bookmark);
      if (!Number.isSafeInteger(after) || after < 0)
        throw new ValidationError('invalid bookmark', [
          { field: 'bookmark', problem: 'not a bookmark of this report' },
        ]);
    }
    const { file: _file, header: _header, ...record } = await load(id);
    const page = await imports.problems(id, pageSize, after);
    return {
      ...record,
      lines: Object.values(record.counts).reduce((a, b) => a + b, 0),
      report: page.list as LineResult[],
      next: page.last === undefined ? '' : String(page.last),
    };
  }

  return {
    /** A new import awaiting its file, and where to PUT it. */
    async create(format: ImportFormat, update: boolean) {
      const record = newRecord(format, update);
      await imports.create(record);
      const url = await deps.files.uploadUrl(record.file, UPLOAD_URL_SECONDS);
      const expires = new Date(clock.now().getTime() + UPLOAD_URL_SECONDS * 1000).toISOString();
      return { import: await view(record.id), upload: { url, method: 'PUT' as const, expires_at: expires } };
    },
    /** A new import of the file given whole (the request body), started at once. */
    async createWith(format: ImportFormat, update: boolean, body: Uint8Array): Promise<ImportView> {
      const record = newRecord(format, update);
      await imports.create(record);
      await deps.files.put(record.file, body);
      return start(record.id);
    },
    start,
    view,
  };
}

/** The import's task handlers, for the job worker (composition/task-composition.ts). */
export function importHandlers(deps: ImportDeps): Record<string, TaskHandler> {
  const { imports, clock, rowsPerPiece = DEFAULT_ROWS_PER_PIECE } = deps;
  const running = async (id: unknown) => {
    const record = typeof id === 'string' ? await imports.get(id) : undefined;
    return record?.status === 'RUNNING' ? record : undefined;
  };
  const fail = (id: string, code: string, err: string) => imports.fail(id, { code, err }, clock.now().toISOString());

  return {
    async [IMPORT_TASKS.plan](task, context): Promise<TaskCounts> {
      const record = await running(task.id);
      if (!record) return {};
      const bytes = await deps.files.read(record.file);
      if (!bytes) {
        await fail(record.id, 'IMPORT_FILE_MISSING', 'the uploaded file is gone');
        return { importFailed: 1 };
      }
      let planned: Awaited<ReturnType<typeof planFile>>;
      try {
        planned = await planFile(record.format, bytes, rowsPerPiece);
      } catch (error) {
        if (!(error instanceof ImportFileError)) throw error;
        await fail(record.id, 'INVALID_IMPORT_FILE', (error as Error).message);
        return { importFailed: 1 };
      }
      await imports.planned(record.id, planned.pieces.length, planned.header);
      const tasks: PieceTask[] = planned.pieces.map((piece, n) => ({
        kind: IMPORT_TASKS.piece,
        id: record.id,
        piece: n,
        ...piece,
      }));
      for (let i = 0; i < tasks.length; i += 100) await context.queue.send(tasks.slice(i, i + 100));
      if (tasks.length === 0) await imports.finish(record.id, clock.now().toISOString());
      return { importPieces: tasks.length };
    },

    async [IMPORT_TASKS.piece](task): Promise<TaskCounts> {
      const { id, piece, start, end, linesBefore } = task as PieceTask;
      const record = await running(id);
      if (!record || (await imports.pieceDone(id, piece))) return {};
      const bytes = await deps.files.read(record.file, start, end);
      if (!bytes) {
        await fail(id, 'IMPORT_FILE_MISSING', 'the uploaded file is gone');
        return { importFailed: 1 };
      }
      const items = rowsOfPiece(record.format, await textOf(bytes), { start, end, linesBefore }, record.header);
      const results = await rowImporter(deps, { update: record.update, since: record.started_at ?? record.created_at })(
        items,
      );
      const counts: Record<string, number> = {};
      for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
      const problems = results.filter((r) => !GOOD_OUTCOMES.includes(r.outcome));
      if (await imports.completePiece(id, piece, counts, problems)) {
        const after = await imports.get(id);
        if (after?.pieces !== undefined && after.pieces_done >= after.pieces)
          await imports.finish(id, clock.now().toISOString());
      }
      return { importRows: results.length };
    },
  };
}

/** Import tasks go to the jobs queue. */
export const isImportTask = (task: Task): boolean => task.kind.startsWith('import.');
