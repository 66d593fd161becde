/**
 * Fleet insights (docs/api.md, Fleet insights), pure: what a device contributes to the indexed metadata keys and to
 * the expiry forecast, and how forecast days fold into the buckets of `GET /stats/expirations`.
 */
import type { Device, JsonValue } from './device';
import { ValidationError } from './errors';

/** At most this many metadata keys are indexed (INDEXED_METADATA_KEYS). */
const MAX_INDEXED_METADATA_KEYS = 10;
/** A dotted path of own keys: segments of letters, digits and `_ - : @ /`. */
const INDEXED_KEY_PATTERN = /^[A-Za-z0-9_:@/-]{1,64}(\.[A-Za-z0-9_:@/-]{1,64}){0,7}$/;

/** The problem with a list of indexed metadata keys, or undefined when it is valid. */
export function indexedKeysProblem(keys: readonly string[]): string | undefined {
  if (keys.length > MAX_INDEXED_METADATA_KEYS) return `at most ${MAX_INDEXED_METADATA_KEYS} keys, got ${keys.length}`;
  const bad = keys.find((k) => !INDEXED_KEY_PATTERN.test(k));
  if (bad !== undefined) return `'${bad}' is not a dotted path of 1-8 segments of [A-Za-z0-9_:@/-]`;
  if (new Set(keys).size !== keys.length) return 'keys repeat';
  return undefined;
}

/**
 * JSON text with object keys sorted, so equal values (docs/api.md, Fleet insights: compared as their JSON text) have
 * one text.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`)
    .join(',')}}`;
}

/** The value at a dotted path of own keys, or undefined. */
export function metadataValue(metadata: Record<string, JsonValue>, key: string): JsonValue | undefined {
  let node: JsonValue | undefined = metadata;
  for (const segment of key.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, segment))
      return undefined;
    node = node[segment];
  }
  return node;
}

/** The JSON text of a device's value for an indexed key, or undefined when it has none. */
export function metadataText(device: Device, key: string): string | undefined {
  const value = metadataValue(device.metadata, key);
  return value === undefined ? undefined : canonicalJson(value);
}

/**
 * The JSON texts a `metadata.<key>[eq]` value matches (the filter language compares a string
 * metadata value with the raw text, anything else with the parsed JSON): `1.4.2` → `"1.4.2"`;
 * `3` → `"3"` and `3`.
 */
export function textsMatching(raw: string): string[] {
  const texts = new Set([JSON.stringify(raw)]);
  try {
    texts.add(canonicalJson(JSON.parse(raw) as JsonValue));
  } catch {
    // Not JSON: only the string matches.
  }
  return [...texts];
}

/** One certificate or secret counted by the forecast: its UTC expiration day and whether it is the identity. */
export interface ForecastEntry {
  day: string;
  kind: 'identity' | 'slots';
}

/**
 * What a device contributes to the expiry forecast: the active (not revoked, not superseded, not
 * decommissioned) identity and extra slots with an expiration date.
 */
export function forecastEntries(device: Device): ForecastEntry[] {
  if (device.status === 'DECOMMISSIONED') return [];
  const out: ForecastEntry[] = [];
  const add = (kind: ForecastEntry['kind'], slot: Device['identity']) => {
    if (slot && slot.status !== 'REVOKED' && slot.expiration_date)
      out.push({ day: slot.expiration_date.slice(0, 10), kind });
  };
  add('identity', device.identity);
  for (const slot of Object.values(device.slots)) add('slots', slot);
  return out;
}

const FORECAST_BUCKETS = ['day', 'week', 'month'] as const;
export type ForecastBucket = (typeof FORECAST_BUCKETS)[number];
const MAX_HORIZON_DAYS = 730;

export interface ForecastQuery {
  bucket: ForecastBucket;
  horizonDays: number;
  dms?: string;
}

/** Parses `bucket`, `horizon_days` and `filter=dms_owner[eq]...` (the only filter accepted). */
export function parseForecastQuery(query: URLSearchParams): ForecastQuery {
  const problems = [];
  const bucket = (query.get('bucket') ?? 'week') as ForecastBucket;
  if (!FORECAST_BUCKETS.includes(bucket))
    problems.push({ field: 'bucket', problem: `must be one of ${FORECAST_BUCKETS.join(', ')}` });
  const rawHorizon = query.get('horizon_days') ?? '90';
  const horizonDays = Number(rawHorizon);
  if (!/^\d{1,4}$/.test(rawHorizon) || horizonDays < 1 || horizonDays > MAX_HORIZON_DAYS)
    problems.push({ field: 'horizon_days', problem: `must be an integer from 1 to ${MAX_HORIZON_DAYS}` });
  let dms: string | undefined;
  query.getAll('filter').forEach((f, i) => {
    const match = /^dms_owner\[eq\](.+)$/.exec(f);
    if (match && dms === undefined) dms = match[1];
    else problems.push({ field: `filter[${i}]`, problem: 'only one dms_owner[eq] filter is accepted' });
  });
  if (problems.length > 0) throw new ValidationError('invalid forecast parameters', problems);
  return { bucket, horizonDays, dms };
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The start (epoch ms, UTC) of the calendar bucket after the one holding `ms`. */
function nextBoundary(ms: number, bucket: ForecastBucket): number {
  const d = new Date(ms);
  if (bucket === 'day') return ms + DAY_MS;
  if (bucket === 'week') return ms + ((8 - (d.getUTCDay() || 7)) % 7 || 7) * DAY_MS;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export interface ForecastBucketCount {
  start: string;
  end: string;
  identity: number;
  slots: number;
}

export interface Forecast {
  generated_at: string;
  bucket: ForecastBucket;
  already_expired: number;
  buckets: ForecastBucketCount[];
}

/**
 * Folds per-day counts into calendar buckets from today (UTC) to today + horizon. The first bucket
 * starts today (not at the calendar start of its week or month: days before today are already
 * expired) and the last ends at the horizon; weeks start on Monday, months on the 1st.
 */
export function foldForecast(
  days: ReadonlyMap<string, { identity: number; slots: number }>,
  q: ForecastQuery,
  now: Date,
): Forecast {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const horizon = today + q.horizonDays * DAY_MS;
  const todayText = dayOf(today);
  let alreadyExpired = 0;
  for (const [day, n] of days) if (day < todayText) alreadyExpired += n.identity + n.slots;
  const buckets: ForecastBucketCount[] = [];
  for (let start = today; start < horizon; ) {
    const end = Math.min(nextBoundary(start, q.bucket), horizon);
    const bucket = {
      start: new Date(start).toISOString().replace('.000Z', 'Z'),
      end: new Date(end).toISOString().replace('.000Z', 'Z'),
      identity: 0,
      slots: 0,
    };
    for (let day = start; day < end; day += DAY_MS) {
      const n = days.get(dayOf(day));
      if (n) {
        bucket.identity += n.identity;
        bucket.slots += n.slots;
      }
    }
    buckets.push(bucket);
    start = end;
  }
  return {
    generated_at: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    bucket: q.bucket,
    already_expired: alreadyExpired,
    buckets,
  };
}

/** Most devices first, ties by value text. */
export const byTotalThenValue = (
  a: { value: string; stats: { total: number } },
  b: { value: string; stats: { total: number } },
) => b.stats.total - a.stats.total || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/** The `limit` values held by most devices (ties by value text), and how many devices hold any other. */
export function topValues<T extends { value: string; stats: { total: number } }>(
  all: readonly T[],
  limit: number,
): { values: T[]; other: number } {
  const sorted = all.filter((v) => v.stats.total > 0).sort(byTotalThenValue);
  return { values: sorted.slice(0, limit), other: sorted.slice(limit).reduce((n, v) => n + v.stats.total, 0) };
}
