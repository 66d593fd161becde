/**
 * DeviceQueries and InsightQueries on the single table: lists read from the most selective entry
 * point (list-cursor.ts), a device's events from its partition, statistics from the counters when
 * they answer exactly, else from one entry point within the statistics budget.
 */
import type { DeviceQueries, DeviceStats, DeviceStore, InsightQueries } from '../../app/ports';
import type { DeviceEvent } from '../../domain/device';
import { IndexNotReadyError, InvalidBookmarkError, QueryTooBroadError } from '../../domain/errors';
import { type Filter, matchesAll } from '../../domain/filters';
import { topValues } from '../../domain/insights';
import { IDENTITY_SLOT } from '../../domain/slot-names';
import {
  chooseEntryPoint,
  type EntryPoint,
  indexedCertificateFilter,
  indexedMetadataFilter,
  type SortField,
} from '../../domain/query';
import { emptyDistribution, totalOf } from './counters';
import type { DeviceTable } from './device-table';
import {
  DEVICE_EVENT_PREFIX,
  deviceEventKey,
  deviceKey,
  entryPrefixes,
  indexFor,
  PAIR_DIMENSION,
  splitCertificatePair,
  statsScopeAll,
  statsScopeDms,
} from './keys';
import { listEntry, visitEntry } from './list-cursor';

/** Shape of a list position per sort order: a forged bookmark position is a 400, never a key. */
const POSITION: Record<SortField, RegExp> = {
  creation_timestamp: /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z#[A-Za-z0-9:_.-]{1,128})?$/,
  id: /^([A-Za-z0-9:_.-]{1,128})?$/,
  'identity.expiration_date': /^((\d{4}-\d{2}-\d{2}T[\d:.]+Z|~)#[A-Za-z0-9:_.-]{1,128})?$/,
};

const isEventTimestamp = (position: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(position);

/** The filter a statistics request should index to become cheap: the first one no index serves. */
function filterToIndex(filters: readonly Filter[]): string {
  const f = filters.find((x) => x.kind === 'metadata') ?? filters.find((x) => x.kind !== 'status') ?? filters[0];
  return f ? f.field : '(none)';
}

/** Whether the entry point (plus status, which the index carries) decides every filter by itself. */
function entryDecides(
  entry: Exclude<EntryPoint, { kind: 'ID' }>,
  filters: readonly Filter[],
  indexedKeys: readonly string[],
): boolean {
  return filters.every((f) => {
    if (f.kind === 'status') return true;
    if (entry.kind === 'TAG') return f.kind === 'tags' && f.op === 'ct' && f.value === entry.value;
    if (entry.kind === 'DMS')
      return f.kind === 'string' && f.field === 'dms_owner' && f.op === 'eq' && f.values[0] === entry.value;
    if (entry.kind === 'CERT')
      return (
        indexedCertificateFilter([f])?.dimension === entry.dimension &&
        f.kind === 'crypto' &&
        f.values[0] === entry.value
      );
    if (entry.kind === 'META')
      return (
        indexedMetadataFilter([f], indexedKeys)?.key === entry.key &&
        filters.filter((x) => x.kind === 'metadata').length === 1
      );
    return false;
  });
}

/** Statistics read from the devices (or their entries) themselves: as of the read. */
const countInto = (
  now: () => number,
  count: (add: (status: string) => void) => Promise<void>,
): Promise<DeviceStats> => {
  const distribution = emptyDistribution();
  const consistent_as_of = new Date(now()).toISOString();
  return count((status) => (distribution[status as keyof typeof distribution] += 1)).then(() => ({
    total: totalOf(distribution),
    status_distribution: distribution,
    consistent_as_of,
  }));
};

export function deviceQueries(table: DeviceTable, { get }: Pick<DeviceStore, 'get'>): DeviceQueries {
  const { reader, counters, bookmarks, ctx, budgets, now, readyMetadataKeys, turns, crowded, heavy } = table;
  /**
   * Whether the inventory's entries serve the filters. Read only when a filter names the identity
   * certificate's profile: such a filter is 409 INDEX_NOT_READY until the back-fill gave every device
   * its profile, since a device not reached yet would silently not match.
   */
  const inventoryServes = async (filters: readonly Filter[]) => {
    if (!filters.some((x) => x.kind === 'crypto')) return false;
    if (!(await table.inventoryReady(true))) throw IndexNotReadyError.inventory();
    return indexedCertificateFilter(filters) !== undefined;
  };
  /**
   * The partition prefixes of an entry point. The certificate drill-down entries are keyed by the key and
   * issuer together (keys.ts, certificateEntry): a drill-down reads the partitions of the pairs with that
   * key (or issuer) the pair counters know, `STATS_SHARDS` × pairs counter items whatever the fleet.
   */
  const prefixesOf = async (entry: Exclude<EntryPoint, { kind: 'ID' }>) => {
    if (entry.kind !== 'CERT') return entryPrefixes(entry);
    const pairs = [...(await counters.inventory(IDENTITY_SLOT, PAIR_DIMENSION)).keys()].map(splitCertificatePair);
    const others =
      entry.dimension === 'key'
        ? pairs.filter((p) => p.key === entry.value).map((p) => p.issuer)
        : pairs.filter((p) => p.issuer === entry.value).map((p) => p.key);
    return entryPrefixes({ ...entry, others: others.sort() });
  };
  return {
    indexedMetadataKeys: table.indexedMetadataKeys,

    async list(q) {
      const ready = await readyMetadataKeys(q.filters);
      const entry: EntryPoint =
        q.connected === undefined
          ? chooseEntryPoint(q.filters, ready, await inventoryServes(q.filters))
          : { kind: 'CONN', value: q.connected ? 'true' : 'false' };
      const fingerprint = { e: entry, f: q.filters, s: q.sortBy, m: q.sortMode };
      if (entry.kind === 'ID') {
        if (q.bookmark) bookmarks.decode(fingerprint, q.bookmark);
        const device = await get(entry.value);
        return { list: device && matchesAll(device, q.filters) ? [device] : [], next: '' };
      }
      const after = q.bookmark ? bookmarks.decode(fingerprint, q.bookmark) : undefined;
      if (after !== undefined && !POSITION[q.sortBy].test(after)) throw new InvalidBookmarkError();
      const page = await listEntry({
        reader,
        index: indexFor(q.sortBy),
        prefixes: await prefixesOf(entry),
        shards: ctx.listShards,
        descending: q.sortMode === 'desc',
        after,
        pageSize: q.pageSize,
        filters: q.filters,
        // A connectivity entry's status is as of its last presence write: the devices are read and checked.
        needsDocument: entry.kind === 'CONN' || !entryDecides(entry, q.filters, ready),
        indexStatus: entry.kind !== 'CONN',
        readBudget: budgets.readBudget,
        byteBudget: Math.min(q.byteBudget ?? budgets.listByteBudget, q.maxBytes ?? Number.POSITIVE_INFINITY),
        atLeastOne: q.maxBytes === undefined,
        pause: turns?.(),
        crowded,
        heavy,
      });
      return {
        list: page.list,
        next: page.resumeAfter === undefined ? '' : bookmarks.encode(fingerprint, page.resumeAfter),
      };
    },

    async listEvents(id, pageSize, bookmark) {
      const fingerprint = { events: id };
      // An events position is an event timestamp (functions/domain/device.ts nextEventTimestamps).
      const after = bookmark ? bookmarks.decode(fingerprint, bookmark, isEventTimestamp) : undefined;
      const out = await reader.query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': deviceKey(id).pk, ':prefix': DEVICE_EVENT_PREFIX },
        ScanIndexForward: false,
        // One extra item tells whether a next page exists, so the last page says next "".
        Limit: pageSize + 1,
        ExclusiveStartKey: after === undefined ? undefined : deviceEventKey(id, after),
      });
      const items = out.Items ?? [];
      const list: DeviceEvent[] = items.slice(0, pageSize).map((item) => {
        const { timestamp, type, description, slot } = item as unknown as DeviceEvent;
        return slot === undefined ? { timestamp, type, description } : { timestamp, type, description, slot };
      });
      const more = items.length > pageSize;
      return { list, next: more ? bookmarks.encode(fingerprint, list.at(-1)!.timestamp) : '' };
    },

    /**
     * Counters when the filters are none, `dms_owner[eq]` alone or one back-filled indexed metadata
     * `[eq|in]` alone; otherwise the best entry point is read once, within the statistics budget.
     */
    async stats(filters: readonly Filter[]) {
      if (filters.length === 0) return counters.statusCounters(statsScopeAll);
      const only = filters.length === 1 ? filters[0] : undefined;
      if (only?.kind === 'string' && only.field === 'dms_owner' && only.op === 'eq')
        return counters.statusCounters(statsScopeDms(only.values[0]!));
      const ready = await readyMetadataKeys(filters);
      const meta = only ? indexedMetadataFilter([only], ready) : undefined;
      if (meta) return counters.metadataCounters(meta.key, meta.texts);
      const entry = chooseEntryPoint(filters, ready, await inventoryServes(filters));
      if (entry.kind === 'ID') {
        return countInto(now, async (count) => {
          const device = await get(entry.value);
          if (device && matchesAll(device, filters)) count(device.status);
        });
      }
      const deadline = now() + budgets.timeBudgetMs;
      const prefixes = await prefixesOf(entry);
      return countInto(now, (count) =>
        visitEntry({
          reader,
          prefixes,
          shards: ctx.listShards,
          filters,
          needsDocument: !entryDecides(entry, filters, ready),
          readBudget: budgets.statsReadBudget,
          readByteBudget: budgets.statsReadByteBudget,
          deadline,
          now,
          pause: turns?.(),
          crowded,
          count,
          onBudgetSpent: () => {
            throw QueryTooBroadError.statistics(
              filterToIndex(filters),
              budgets.statsReadBudget,
              now() > deadline ? 'time' : 'items',
            );
          },
        }),
      );
    },
  };
}

export function insightQueries({
  counters,
  ranks,
  indexes,
  indexedMetadataKeys,
  readyMetadataKeys,
  inventoryReady,
}: DeviceTable): InsightQueries {
  return {
    indexedMetadataKeys,

    async certificateInventory(slot, dimension) {
      if (!(await inventoryReady())) throw IndexNotReadyError.inventory();
      return counters.inventory(slot, dimension);
    },

    async metadataValues(key, limit) {
      if (!(await readyMetadataKeys()).includes(key)) throw new IndexNotReadyError(key);
      // Until the ranked items of a key indexed before they existed are built, every value is read.
      if ((await indexes.ranked()).has(key)) return ranks.top(key, limit);
      return topValues(await counters.metadataDistribution(key), limit);
    },

    async expirationsByDay(dms, lastDay) {
      return counters.forecastDays(dms, lastDay);
    },

    connectivityCounts() {
      return counters.connectivity();
    },

    countersConsistentAsOf() {
      return counters.asOf();
    },
  };
}
