/**
 * `import <file>`: every row of the file through `POST /v2/devices` (and `PUT .../idslot` for its
 * certificate), `concurrency` at a time. A device that exists is compared with its row: the same is
 * `unchanged`, different is a `conflict`, or patched with `--update` under `If-Match`. Nothing stops
 * the run but an authentication failure; every line ends with exactly one outcome.
 */
import { X509Certificate } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { normaliseSerial } from '../functions/domain/certificate';
import { ID_PATTERN } from '../functions/domain/device';
import type { ExistingDevice } from './compare';
import {
  type Answer,
  completeCreated,
  reconcileRow,
  refusalOf,
  type Refused,
  type RowCertificate,
  type RowDevices,
} from '../functions/app/import-reconcile';
import { ApiError, ApiUnreachableError } from './errors';
import type { ApiClient, ApiReply } from './http-client';
import type { Progress } from './progress';
import type { DeviceRow, FieldProblem, SourceItem } from './rows';
import { GOOD_OUTCOMES, type LineResult, OUTCOMES, type Outcome } from '../functions/domain/import-rows';
import type { ImportSource } from './sources';

export { GOOD_OUTCOMES, type LineResult, OUTCOMES, type Outcome };

export interface ImportSummary {
  counts: Record<Outcome, number>;
  lines: number;
  seconds: number;
  retries: number;
}

export interface ImportOptions {
  client: ApiClient;
  source: ImportSource;
  concurrency: number;
  /** Patch devices that differ from their rows (under If-Match) instead of reporting a conflict. */
  update: boolean;
  /** Receives every line that did not go in. */
  onProblem?: (result: LineResult) => Promise<void> | void;
  progress?: Progress;
  /** Retries so far (read for the progress line). */
  retries?: () => number;
}

function errorFields(reply: ApiReply): Omit<Refused, 'ok'> {
  const body = (typeof reply.body === 'object' && reply.body !== null ? reply.body : {}) as {
    code?: string;
    err?: string;
    details?: FieldProblem[];
  };
  return {
    status: reply.status,
    code: body.code,
    err: body.err ?? (typeof reply.body === 'string' ? reply.body.slice(0, 200) : `HTTP ${reply.status}`),
    ...(body.details ? { details: body.details } : {}),
  };
}

/** 401/403 would refuse every row alike: the run stops instead of failing a million lines. */
function stopOnAuth(reply: ApiReply): void {
  if (reply.status === 401 || reply.status === 403) {
    const { err, code } = errorFields(reply);
    throw new ApiError(
      `the API refused the credentials: ${reply.status} ${code ?? ''} ${err ?? ''}`.trim(),
      reply.status,
      reply.body,
    );
  }
}

/** The API's answer to a request that did not succeed (401/403 stop the run instead). */
function refused(reply: ApiReply): Refused {
  stopOnAuth(reply);
  return { ok: false, ...errorFields(reply) };
}

/** The line of a row the API refused (import-reconcile.ts says which outcome). */
const refusal = (row: DeviceRow, reply: ApiReply): LineResult => refusalOf(row, refused(reply));

const etag = (version: number) => ({ 'if-match': `"${version}"` });
const devicePath = (id: string) => `/v2/devices/${encodeURIComponent(id)}`;

/** A row's device operations over HTTP, each reply as the API gave it (200 with the device's new version). */
export function httpDevices(client: ApiClient): RowDevices {
  const version = (reply: ApiReply): Answer<number> =>
    reply.status === 200 ? { ok: true, value: (reply.body as { version: number }).version } : refused(reply);
  const change = async (method: string, id: string, suffix: string, body: unknown, ifMatch?: number) =>
    version(
      await client.send(method, `${devicePath(id)}${suffix}`, {
        body,
        headers: ifMatch === undefined ? {} : etag(ifMatch),
      }),
    );
  return {
    async get(id) {
      const read = await client.send('GET', devicePath(id));
      return read.status === 200 ? { ok: true, value: read.body as ExistingDevice } : refused(read);
    },
    async patch(id, patch, ifMatch) {
      return version(
        await client.send('PATCH', devicePath(id), {
          body: patch,
          contentType: 'application/json-patch+json',
          headers: etag(ifMatch),
        }),
      );
    },
    bind: (id, pem, ifMatch) => change('PUT', id, '/idslot', { certificate: pem }, ifMatch),
    revoke: (id, reason, ifMatch) => change('POST', id, '/idslot/revoke', { reason }, ifMatch),
    decommission: (id, ifMatch) => change('DELETE', id, '', undefined, ifMatch),
  };
}

/** Lowercase hex serial as the API keys it; undefined when the PEM does not parse here (the API will say why). */
async function certificateOf(row: DeviceRow, baseDir: string): Promise<RowCertificate | LineResult | undefined> {
  if (!row.certificate) return undefined;
  let pem: string;
  if ('pem' in row.certificate) pem = row.certificate.pem;
  else {
    const file = path.resolve(baseDir, row.certificate.file);
    try {
      pem = await readFile(file, 'utf8');
    } catch (error) {
      return {
        line: row.line,
        id: row.id,
        outcome: 'invalid',
        err: 'certificate file not readable',
        details: [
          {
            field: 'certificate',
            problem: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          },
        ],
      };
    }
  }
  try {
    return { pem, serial: normaliseSerial(new X509Certificate(pem).serialNumber) };
  } catch {
    return { pem };
  }
}

/** Whether most of the last rows met an existing device (a moving window of 64 rows). */
export function existingTracker(window = 64, threshold = 0.5) {
  const seen: boolean[] = [];
  let hits = 0;
  return {
    record(exists: boolean) {
      seen.push(exists);
      if (exists) hits++;
      if (seen.length > window && seen.shift()) hits--;
    },
    likely: () => seen.length >= window / 4 && hits / seen.length > threshold,
  };
}

/** Runs the import; resolves with the counts once every line has its outcome. */
export async function runImport({
  client,
  source,
  concurrency,
  update,
  onProblem,
  progress,
  retries = () => 0,
}: ImportOptions): Promise<ImportSummary> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const started = Date.now();
  let lines = 0;
  let fatal: unknown;

  const devices = httpDevices(client);
  const reconcile = (row: DeviceRow, cert: RowCertificate | undefined, ourCreate: boolean, known?: ExistingDevice) =>
    reconcileRow(devices, row, cert, { update, updateHint: '--update', ours: () => ourCreate }, known);

  // A re-run (or a resumed run) meets mostly devices that exist: once most recent rows did, a row
  // reads its device first (one GET instead of a refused POST and a GET).
  const existing = existingTracker();

  const importRow = async (row: DeviceRow): Promise<LineResult> => {
    const cert = await certificateOf(row, source.baseDir);
    if (cert && 'outcome' in cert) return cert;
    if (existing.likely() && row.id !== undefined && ID_PATTERN.test(row.id)) {
      const read = await client.send('GET', devicePath(row.id));
      existing.record(read.status === 200);
      if (read.status === 200) return reconcile(row, cert, false, read.body as ExistingDevice);
      if (read.status !== 404) return refusalOf(row, refused(read), 'existing device not readable: ');
    }
    const created = await client.send('POST', '/v2/devices', { body: row.create });
    existing.record(created.status === 409);
    if (created.status === 201)
      return completeCreated(devices, row, cert, (created.body as { version: number }).version);
    // 409 on a create is a duplicate id; when the POST was retried, the first attempt may have made it.
    if (created.status === 409 && row.id !== undefined) return reconcile(row, cert, created.attempts > 1);
    return refusal(row, created);
  };

  const handle = async (item: SourceItem) => {
    let result: LineResult;
    try {
      result = 'invalid' in item ? { ...item.invalid, outcome: 'invalid' } : await importRow(item.row);
    } catch (error) {
      if (error instanceof ApiError || error instanceof ApiUnreachableError) throw error;
      const row = 'row' in item ? item.row : item.invalid;
      result = { line: row.line, id: row.id, outcome: 'failed', err: (error as Error).message };
    }
    lines++;
    counts[result.outcome]++;
    if (!GOOD_OUTCOMES.includes(result.outcome)) await onProblem?.(result);
    progress?.update({
      done: lines,
      fraction: source.size ? source.bytesRead() / source.size : undefined,
      detail: summaryWords(counts, retries()),
    });
  };

  const iterator = source.items[Symbol.asyncIterator]();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (fatal === undefined) {
        let next: IteratorResult<SourceItem>;
        try {
          next = await iterator.next();
        } catch (error) {
          fatal ??= error;
          return;
        }
        if (next.done) return;
        await handle(next.value).catch((error: unknown) => void (fatal ??= error));
      }
    }),
  );
  progress?.stop();
  if (fatal !== undefined) throw fatal;
  return { counts, lines, seconds: (Date.now() - started) / 1000, retries: retries() };
}

/** `created 10 unchanged 2 ...` (non-zero outcomes only). */
export function summaryWords(counts: Record<Outcome, number>, retries: number): string {
  const words = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${o} ${counts[o]}`);
  if (retries > 0) words.push(`retries ${retries}`);
  return words.join(' ');
}

/** The summary block printed at the end. */
export function formatSummary(file: string, summary: ImportSummary): string {
  const width = Math.max(...OUTCOMES.map((o) => o.length));
  const rate = summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : summary.lines;
  return [
    `import ${file}: ${summary.lines} lines in ${summary.seconds.toFixed(1)}s ` +
      `(${rate} lines/s)${summary.retries > 0 ? `, ${summary.retries} retried requests` : ''}`,
    ...OUTCOMES.map((o) => `  ${o.padEnd(width)}  ${summary.counts[o]}`),
  ].join('\n');
}

/** True when every line is accounted for as created, unchanged or updated. */
export function allGood(summary: ImportSummary): boolean {
  return OUTCOMES.every((o) => GOOD_OUTCOMES.includes(o) || summary.counts[o] === 0);
}

/** An NDJSON report file written with backpressure. */
export function reportWriter(file: string): { write(result: LineResult): Promise<void>; close(): Promise<void> } {
  const stream: WriteStream = createWriteStream(file);
  return {
    async write(result) {
      if (!stream.write(`${JSON.stringify(result)}\n`)) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(stream, 'finish');
    },
  };
}
