/** `stats` and `forecast` as text tables (pure: the API's JSON in, lines out). */
import { DEVICE_STATUSES } from '../functions/domain/device';

/** `GET /v2/stats/devices` (docs/api.md, Endpoints). */
export interface DeviceStats {
  total: number;
  status_distribution: Record<string, number>;
}

/** `GET /v2/stats/expirations` (docs/api.md, Fleet insights). */
export interface ExpirationForecast {
  generated_at: string;
  bucket: string;
  already_expired: number;
  buckets: { start: string; end: string; identity: number; slots: number }[];
}

/** Columns padded to their widest cell; numbers (and headers over them) right-aligned. */
export function renderTable(header: string[], rows: (string | number)[][], rightAligned: boolean[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const percent = (n: number, total: number) => (total > 0 ? ((100 * n) / total).toFixed(1) : '0.0');

export function renderStats(stats: DeviceStats): string {
  const rows: (string | number)[][] = DEVICE_STATUSES.map((s) => [
    s,
    stats.status_distribution[s] ?? 0,
    percent(stats.status_distribution[s] ?? 0, stats.total),
  ]);
  rows.push(['total', stats.total, stats.total > 0 ? '100.0' : '0.0']);
  return renderTable(['status', 'devices', '%'], rows, [false, true, true]);
}

/** A bucket bound: the date alone at midnight UTC (every bucket starts there), else the full time. */
function day(timestamp: string): string {
  return /T00:00:00(\.000)?Z$/.test(timestamp) ? timestamp.slice(0, 10) : timestamp;
}

export function renderForecast(forecast: ExpirationForecast): string {
  const rows: (string | number)[][] = forecast.buckets.map((b) => [
    day(b.start),
    day(b.end),
    b.identity,
    b.slots,
    b.identity + b.slots,
  ]);
  const sum = (key: 'identity' | 'slots') => forecast.buckets.reduce((n, b) => n + b[key], 0);
  rows.push(['total', '', sum('identity'), sum('slots'), sum('identity') + sum('slots')]);
  return [
    `expirations by ${forecast.bucket} (generated ${forecast.generated_at})`,
    `already expired: ${forecast.already_expired}`,
    renderTable(['from', 'until', 'identity', 'slots', 'total'], rows, [false, false, true, true, true]),
  ].join('\n');
}
