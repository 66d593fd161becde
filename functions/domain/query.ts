/** Device list queries: sort orders and the choice of an indexed entry point (docs/api.md, Filters and sort). */
import type { Filter } from './filters';
import { textsMatching } from './insights';
import { INDEXED_INVENTORY_DIMENSIONS } from './inventory';

export const SORT_FIELDS = ['creation_timestamp', 'id', 'identity.expiration_date'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const SORT_MODES = ['asc', 'desc'] as const;
export type SortMode = (typeof SORT_MODES)[number];

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 1000;

/**
 * Budgets that keep one request inside Lambda's limits: a page's devices serialized stay far under
 * the 6 MB response limit, and its cost within a few default pages (LIST_BYTE_BUDGET), and a
 * statistics or in-memory read stops, 422 QUERY_TOO_BROAD, after this many bytes of devices
 * (STATS_READ_BYTE_BUDGET) or milliseconds (REQUEST_TIME_BUDGET_MS, under the API functions' 10 s
 * timeout).
 */
export const DEFAULT_LIST_BYTE_BUDGET = 384 * 1024;
/**
 * What each device weighs in a page's byte budget beside its serialized bytes: reading a device
 * costs about as much as 4 KiB of its text (bench:hostile, docs/bounded-cost.md), so a page of many
 * small devices ends early too, and no page costs more than a few default pages.
 */
export const DEVICE_PAGE_WEIGHT = 4096;
/** A device's weight in a page's byte budget: its serialized bytes and {@link DEVICE_PAGE_WEIGHT}. */
export const pageWeight = (bytes: number) => bytes + DEVICE_PAGE_WEIGHT;
export const DEFAULT_STATS_READ_BYTE_BUDGET = 64 * 1024 * 1024;
export const DEFAULT_REQUEST_TIME_BUDGET_MS = 6000;

export interface DeviceListQuery {
  filters: Filter[];
  sortBy: SortField;
  sortMode: SortMode;
  pageSize: number;
  bookmark?: string;
  /** Serialized bytes the page's devices may hold, below the repository's own byte budget. */
  maxBytes?: number;
  /**
   * The page's byte budget in place of the repository's response budget, for a caller that keeps the
   * page in memory instead of answering with it (a remediation job's walk). The response budget cuts
   * a page of larger devices short, and the entries read ahead for the rest of the page are read again
   * by the next one.
   */
  byteBudget?: number;
  /**
   * `filter=connected[eq]true|false`: devices whose last AWS IoT presence event was a connect (or a
   * disconnect); always the entry point (only the connectivity entries know it), the other filters applied
   * to the devices read. Not with `sort_by=identity.expiration_date`.
   */
  connected?: boolean;
}

/**
 * Where a list starts reading. `ALL` walks every device (sharded); the others read only the devices
 * that can match. `ID` is a single-item read.
 */
export type EntryPoint =
  | { kind: 'ALL' }
  | { kind: 'ID'; value: string }
  | { kind: 'TAG'; value: string }
  /** Devices whose indexed metadata `key` has one of these JSON texts (an `eq` or `in` filter). */
  | { kind: 'META'; key: string; texts: string[] }
  /**
   * Devices whose identity certificate in service has this key or issuer (the certificate inventory);
   * `others`: the values of the other dimension, one partition each, known to the adapter's counters.
   */
  | { kind: 'CERT'; dimension: (typeof INDEXED_INVENTORY_DIMENSIONS)[number]; value: string; others?: string[] }
  | { kind: 'DMS'; value: string }
  | { kind: 'STATUS'; value: string }
  /** Devices whose last presence event was a connect (`true`) or a disconnect (`false`). */
  | { kind: 'CONN'; value: 'true' | 'false' };

/** Filters that can be served by an index, most selective first (plus `metadata.<indexed key>[eq|in]` after tags). */
export const INDEXED_FILTERS = ['id[eq]', 'tags[ct]', 'dms_owner[eq]', 'status[eq]'] as const;

/** The indexed metadata filter among `filters` (`metadata.<key>[eq|in]` with `key` among `indexedKeys`), if any. */
export function indexedMetadataFilter(
  filters: readonly Filter[],
  indexedKeys: readonly string[],
): { key: string; texts: string[] } | undefined {
  for (const f of filters) {
    if (f.kind !== 'metadata' || (f.op !== 'eq' && f.op !== 'in')) continue;
    const key = f.path.join('.');
    if (!indexedKeys.includes(key)) continue;
    const raws = f.op === 'in' ? f.raw.split(',') : [f.raw];
    return { key, texts: [...new Set(raws.flatMap(textsMatching))] };
  }
  return undefined;
}

/** The indexed certificate filter among `filters` (`identity.key[eq]`, `identity.issuer[eq]`), if any. */
export function indexedCertificateFilter(
  filters: readonly Filter[],
): Extract<EntryPoint, { kind: 'CERT' }> | undefined {
  for (const f of filters)
    if (f.kind === 'crypto' && f.op === 'eq')
      for (const dimension of INDEXED_INVENTORY_DIMENSIONS)
        if (f.dimension === dimension) return { kind: 'CERT', dimension, value: f.values[0]! };
  return undefined;
}

/**
 * Picks the most selective indexed filter: an exact id, then a tag, then an indexed metadata value
 * (among the back-filled `indexedKeys`), then an identity key or issuer (once the inventory is
 * back-filled, `inventoryReady`), then a DMS, then a status (a status partition is typically the
 * largest). The remaining filters are applied to what is read.
 */
export function chooseEntryPoint(
  filters: readonly Filter[],
  indexedKeys: readonly string[] = [],
  inventoryReady = false,
): EntryPoint {
  const find = <K extends Filter['kind']>(kind: K, field: string, op: string) =>
    filters.find((f) => f.kind === kind && f.field === field && f.op === op);
  const id = find('string', 'id', 'eq');
  if (id?.kind === 'string') return { kind: 'ID', value: id.values[0]! };
  const tag = find('tags', 'tags', 'ct');
  if (tag?.kind === 'tags') return { kind: 'TAG', value: tag.value };
  const meta = indexedMetadataFilter(filters, indexedKeys);
  if (meta) return { kind: 'META', ...meta };
  const cert = inventoryReady ? indexedCertificateFilter(filters) : undefined;
  if (cert) return cert;
  const dms = find('string', 'dms_owner', 'eq');
  if (dms?.kind === 'string') return { kind: 'DMS', value: dms.values[0]! };
  const status = find('status', 'status', 'eq');
  if (status?.kind === 'status') return { kind: 'STATUS', value: status.values[0]! };
  return { kind: 'ALL' };
}
