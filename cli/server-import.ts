/**
 * `import --server-side <file>`: the file is uploaded once and imported by the service's own workers
 * (docs/api.md, Server-side import): `POST /v2/imports` gives an upload URL, the file is PUT there,
 * `POST /v2/imports/{id}/start` starts it, and the import is polled until it is done. The outcomes,
 * summary and report are the ones the client-side import gives.
 */
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { OUTCOMES, type Outcome, type LineResult } from '../functions/domain/import-rows';
import { ApiError, UsageError } from './errors';
import type { ApiClient, ApiReply } from './http-client';
import type { ImportSummary } from './import';
import type { Progress } from './progress';

interface ImportView {
  id: string;
  status: 'AWAITING_UPLOAD' | 'RUNNING' | 'DONE' | 'FAILED';
  counts: Record<Outcome, number>;
  lines: number;
  /** Pieces planned (once the plan task ran) and pieces done. */
  pieces?: number;
  pieces_done?: number;
  error?: { code: string; err: string };
  report: LineResult[];
  next: string;
}

export interface ServerImportOptions {
  client: ApiClient;
  file: string;
  format: 'csv' | 'ndjson';
  update: boolean;
  onProblem?: (result: LineResult) => Promise<void> | void;
  progress?: Progress;
  /** Milliseconds between polls of the import, at most (see {@link nextPollMs}). */
  pollMs?: number;
  /** Says which import runs (its id resumes it: `POST /v2/imports/{id}/start`). */
  onStarted?: (id: string) => void;
}

/** The shortest wait between two polls. */
export const MIN_POLL_MS = 100;

/**
 * The wait before the next poll: `pollMs`, or half the time the import looks to need still (its pieces
 * done so far over `elapsedMs` of running), at least {@link MIN_POLL_MS}. Near its end an import is
 * polled more often, so the command returns within about a tenth of a second of the import's end
 * instead of up to a whole interval later.
 */
export function nextPollMs(
  view: Pick<ImportView, 'pieces' | 'pieces_done'>,
  elapsedMs: number,
  pollMs: number,
): number {
  const { pieces, pieces_done: done = 0 } = view;
  if (pieces === undefined || done <= 0 || done >= pieces) return pollMs;
  const remainingMs = (elapsedMs * (pieces - done)) / done;
  return Math.min(pollMs, Math.max(MIN_POLL_MS, Math.round(remainingMs / 2)));
}

function expect(reply: ApiReply, status: number, what: string): unknown {
  if (reply.status === status) return reply.body;
  const body = reply.body as { err?: string; code?: string } | undefined;
  throw new ApiError(
    `${what}: HTTP ${reply.status} ${body?.code ?? ''} ${body?.err ?? ''}`.trim(),
    reply.status,
    reply.body,
  );
}

/** Uploads the file, starts the import, follows it, and reads its report. */
export async function runServerImport({
  client,
  file,
  format,
  update,
  onProblem,
  progress,
  pollMs = 1000,
  onStarted,
}: ServerImportOptions): Promise<ImportSummary> {
  if (file === '-') throw new UsageError('--server-side uploads a file: name one (stdin has no size to upload)');
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const started = Date.now();
  const created = expect(
    await client.send('POST', '/v2/imports', { body: { format, update } }),
    201,
    'import not created',
  ) as {
    import: ImportView;
    upload: { url: string; method: 'PUT' };
  };
  const id = created.import.id;
  onStarted?.(id);
  // The upload URL carries its own authorization (a presigned URL deployed): no API credentials go with it.
  const put = await fetch(created.upload.url, {
    method: 'PUT',
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    headers: { 'content-length': String(size) },
    duplex: 'half',
  } as RequestInit);
  if (!put.ok)
    throw new ApiError(`upload refused: HTTP ${put.status} ${(await put.text()).slice(0, 200)}`, put.status, undefined);
  let view = expect(await client.send('POST', `/v2/imports/${id}/start`), 202, 'import not started') as ImportView;
  const running = Date.now();
  while (view.status === 'RUNNING') {
    progress?.update({ done: view.lines, detail: `import ${id}` });
    await new Promise((resolve) => setTimeout(resolve, nextPollMs(view, Date.now() - running, pollMs)));
    view = expect(await client.send('GET', `/v2/imports/${id}?page_size=1`), 200, 'import not readable') as ImportView;
  }
  progress?.stop();
  if (view.status === 'FAILED')
    throw new UsageError(`import ${id} failed: ${view.error?.code ?? ''} ${view.error?.err ?? ''}`.trim());
  // The report, a page at a time, in line order.
  for (let bookmark = ''; ; ) {
    const page = expect(
      await client.send('GET', `/v2/imports/${id}?page_size=1000${bookmark ? `&bookmark=${bookmark}` : ''}`),
      200,
      'import report not readable',
    ) as ImportView;
    for (const line of page.report) await onProblem?.(line);
    if (!page.next) break;
    bookmark = encodeURIComponent(page.next);
  }
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, view.counts[o] ?? 0])) as Record<Outcome, number>;
  return { counts, lines: view.lines, seconds: (Date.now() - started) / 1000, retries: 0 };
}
