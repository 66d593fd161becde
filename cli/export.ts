/**
 * `export`: every matching device as one NDJSON line on stdout, page after page (bookmarks), with
 * what `import` needs to recreate it: `dms_id`, the active identity certificate's PEM, and the
 * revocation reason of a revoked identity.
 */
import { once } from 'node:events';
import { ApiError } from './errors';
import type { ApiClient, ApiReply } from './http-client';
import type { Progress } from './progress';

export interface ExportOptions {
  client: ApiClient;
  filters: string[];
  group?: string;
  out: NodeJS.WritableStream;
  /** Certificate reads in flight. */
  concurrency: number;
  /** Devices per page (1-1000). */
  pageSize?: number;
  progress?: Progress;
}

interface ListedDevice {
  id: string;
  dms_owner: string;
  identity?: { type: string; active_version: number };
  [field: string]: unknown;
}

/** The API's error as an exception (export and stats stop at the first refusal). */
export function refused(what: string, reply: ApiReply): ApiError {
  const body = (reply.body ?? {}) as { err?: string; code?: string; details?: { field: string; problem: string }[] };
  const details = body.details?.map((d) => `${d.field}: ${d.problem}`).join('; ');
  return new ApiError(
    `${what}: ${reply.status} ${body.code ?? ''} ${body.err ?? ''}${details ? ` (${details})` : ''}`
      .replace(/\s+/g, ' ')
      .trim(),
    reply.status,
    reply.body,
  );
}

/**
 * Query string of device filters (repeatable `filter=`) and other parameters, every value
 * percent-encoded (a space as %20, never `+`, so that a SigV4 signature reads the same on both ends).
 */
export function filterQuery(filters: string[], extra: Record<string, string> = {}): string {
  const pairs = [...filters.map((f) => ['filter', f] as const), ...Object.entries(extra)];
  return pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

/** Maps with at most `limit` calls in flight, keeping the order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

const enc = encodeURIComponent;

/** The device's export line: the device as the API shows it, with `dms_id` and its certificate. */
async function exportLine(client: ApiClient, device: ListedDevice): Promise<Record<string, unknown>> {
  const line: Record<string, unknown> = { ...device, dms_id: device.dms_owner };
  if (device.identity?.type !== 'x509') return line;
  const reply = await client.send(
    'GET',
    `/v2/devices/${enc(device.id)}/slots/identity/versions/${device.identity.active_version}`,
  );
  if (reply.status !== 200) throw refused(`certificate of ${device.id}`, reply);
  const version = reply.body as { certificate?: string; revocation_reason?: string };
  if (version.certificate) line.certificate = version.certificate;
  if (version.revocation_reason) line.revocation_reason = version.revocation_reason;
  return line;
}

/** The statistics route of the fleet or of a group, narrowed by filters. */
export function statsPath(filters: string[], group?: string): string {
  return `${group ? `/v2/device-groups/${enc(group)}/stats` : '/v2/stats/devices'}${filterQuery(filters)}`;
}

/** The number of devices to export, when the statistics can tell (else the progress has no total). */
async function totalOf(client: ApiClient, filters: string[], group?: string): Promise<number | undefined> {
  const reply = await client.send('GET', statsPath(filters, group));
  return reply.status === 200 ? (reply.body as { total: number }).total : undefined;
}

/** Writes the devices; resolves with their number. */
export async function runExport({
  client,
  filters,
  group,
  out,
  concurrency,
  pageSize = 1000,
  progress,
}: ExportOptions): Promise<number> {
  // A group's members are its criteria; filters narrow them further.
  const total = await totalOf(client, filters, group).catch(() => undefined);
  const base = group ? `/v2/device-groups/${enc(group)}/devices` : '/v2/devices';
  let bookmark = '';
  let written = 0;
  do {
    const reply = await client.send(
      'GET',
      `${base}${filterQuery(filters, { page_size: String(pageSize), ...(bookmark ? { bookmark } : {}) })}`,
    );
    if (reply.status !== 200) throw refused('list devices', reply);
    const page = reply.body as { next: string; list: ListedDevice[] };
    const lines = await mapLimit(page.list, concurrency, (device) => exportLine(client, device));
    for (const line of lines) {
      if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
      written++;
    }
    progress?.update({ done: written, fraction: total ? Math.min(1, written / total) : undefined });
    bookmark = page.next;
  } while (bookmark);
  progress?.stop();
  return written;
}
