/**
 * The device ports in memory: the same contract as the DynamoDB adapter (test/integration/adapters/
 * ports.contract.test.ts runs one suite against both), computed from the stored documents on every
 * read instead of indexes and counters. No read budgets: a query is never too broad here.
 */
import type {
  DevicePurge,
  DeviceRepository,
  DeviceStats,
  MetadataValueStats,
  SlotVersionRef,
  StatusDistribution,
} from '../../../functions/app/ports';
import type { BookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { normaliseSerial } from '../../../functions/domain/certificate';
import { DEVICE_STATUSES, type Device, type DeviceEvent } from '../../../functions/domain/device';
import { DeviceAlreadyExistsError, IndexNotReadyError, VersionConflictError } from '../../../functions/domain/errors';
import { type Filter, matchesAll } from '../../../functions/domain/filters';
import { forecastEntries, metadataText, topValues } from '../../../functions/domain/insights';
import { inventoryValues } from '../../../functions/domain/inventory';
import { storedLifecycleOf, withLifecycle } from '../../../functions/domain/lifecycle';
import { DEFAULT_LIST_BYTE_BUDGET, pageWeight, type SortField } from '../../../functions/domain/query';
import type { SlotVersion } from '../../../functions/domain/slots';
import { appendOutbox, checkPolicy, type MemoryState, type StoredDevice, versionKey } from './state';

export interface MemoryDeviceOptions {
  bookmarks: BookmarkCodec;
  indexedMetadataKeys?: readonly string[];
  /** Serialized bytes of devices one list page may hold (LIST_BYTE_BUDGET). */
  listByteBudget?: number;
}

/** The inventory's state, like the DynamoDB adapter's pseudo-key: served once a back-fill ran. */
const INVENTORY = '@inventory';

/** Devices without an identity sort after every date, like NULLS LAST. */
const sortKey = (device: Device, sortBy: SortField): string => {
  switch (sortBy) {
    case 'creation_timestamp':
      return `${device.creation_timestamp}#${device.id}`;
    case 'id':
      return device.id;
    case 'identity.expiration_date':
      return `${device.identity?.expiration_date ?? '~'}#${device.id}`;
  }
};

const dueKey = (id: string, due: number) => `${new Date(due).toISOString()}#${id}`;

/** The serial a version is found by: its certificate's, or the one an x509 version was bound by. */
function serialOf(version: SlotVersion): string | undefined {
  if (version.certificate) return version.certificate.serial_number;
  return version.type === 'x509' && version.serial_number ? normaliseSerial(version.serial_number) : undefined;
}

function statsOf(devices: Iterable<Device>): DeviceStats {
  const distribution = Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as StatusDistribution;
  let total = 0;
  for (const device of devices) {
    distribution[device.status] += 1;
    total += 1;
  }
  // Counted from the devices at once: as of now.
  return { total, status_distribution: distribution, consistent_as_of: new Date().toISOString() };
}

const isEventTimestamp = (position: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(position);

/** Pages of `items` (sorted by `key`) after `after`: at most `limit`, and the position to go on from when full. */
function pageAfter<T>(items: T[], key: (item: T) => string, limit: number, after?: string) {
  const rest = after === undefined ? items : items.filter((item) => key(item) > after);
  const page = rest.slice(0, limit);
  return { page, next: page.length === limit && page.length > 0 ? key(page.at(-1)!) : undefined };
}

export function memoryDeviceRepository(
  state: MemoryState,
  { bookmarks, indexedMetadataKeys = [], listByteBudget = DEFAULT_LIST_BYTE_BUDGET }: MemoryDeviceOptions,
): DeviceRepository {
  /** Keys whose back-fill ran: a key configured on a table is served once the sweeper back-filled it. */
  const ready = new Set<string>();

  const parse = (stored: StoredDevice): Device => {
    const device = JSON.parse(stored.doc) as Device;
    return stored.lifecycle ? withLifecycle(device, structuredClone(stored.lifecycle)) : device;
  };
  const all = (): Device[] => [...state.devices.values()].map(parse);
  const byId = (a: Device, b: Device) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  function checkVersion(id: string, version: number): StoredDevice {
    const stored = state.devices.get(id);
    if (!stored || (JSON.parse(stored.doc) as Device).version !== version) throw new VersionConflictError(id);
    return stored;
  }

  const repository: DeviceRepository = {
    indexedMetadataKeys,
    dueShards: 1,
    listShards: 1,

    async countersConsistentAsOf() {
      return new Date().toISOString();
    },

    async get(id) {
      const stored = state.devices.get(id);
      return stored && parse(stored);
    },

    async getMany(ids) {
      const found = new Map<string, Device>();
      for (const id of ids) {
        const stored = state.devices.get(id);
        if (stored) found.set(id, parse(stored));
      }
      return found;
    },

    async save(change) {
      const { before, after } = change;
      if (!before && state.devices.has(after.id)) throw new DeviceAlreadyExistsError(after.id);
      const previous = before ? checkVersion(after.id, before.version) : undefined;
      checkPolicy(previous, after.id, change.policy);
      const policy = change.policy ?? previous?.policy;
      const lifecycle = storedLifecycleOf(after) ?? previous?.lifecycle;
      const due = change.due === undefined ? previous?.due : (change.due ?? undefined);
      state.devices.set(after.id, {
        doc: JSON.stringify(after),
        ...(lifecycle ? { lifecycle: structuredClone(lifecycle) } : {}),
        ...(due === undefined ? {} : { due }),
        ...(policy ? { policy: { ...policy } } : {}),
      });
      for (const version of change.versions ?? [])
        state.versions.set(versionKey(version.device_id, version.slot, version.version), JSON.stringify(version));
      let events = state.events.get(after.id);
      if (!events) state.events.set(after.id, (events = new Map()));
      for (const event of change.events) events.set(event.timestamp, structuredClone(event));
      appendOutbox(state, change.outbox);
    },

    // Each device is its own transaction here: only an id that exists is refused.
    async saveNew(changes) {
      const created: string[] = [];
      const refused: string[] = [];
      for (const change of changes) {
        if (state.devices.has(change.after.id)) refused.push(change.after.id);
        else {
          await repository.save(change);
          created.push(change.after.id);
        }
      }
      return { created, refused };
    },

    async list(q) {
      if (q.filters.some((x) => x.kind === 'crypto') && !ready.has(INVENTORY)) throw IndexNotReadyError.inventory();
      const fingerprint = { f: q.filters, s: q.sortBy, m: q.sortMode, c: q.connected };
      const after = q.bookmark ? bookmarks.decode(fingerprint, q.bookmark) : undefined;
      const descending = q.sortMode === 'desc';
      const sorted = all()
        .filter((d) => q.connected === undefined || state.connectivity.get(d.id)?.connected === q.connected)
        .filter((d) => matchesAll(d, q.filters))
        .map((device) => ({ device, key: sortKey(device, q.sortBy) }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) * (descending ? -1 : 1))
        .filter(({ key }) => after === undefined || (descending ? key < after : key > after));
      const byteBudget = Math.min(q.byteBudget ?? listByteBudget, q.maxBytes ?? Number.POSITIVE_INFINITY);
      const atLeastOne = q.maxBytes === undefined;
      const list: Device[] = [];
      let bytes = 0;
      let last = after;
      for (const { device, key } of sorted) {
        const size = pageWeight(Buffer.byteLength(JSON.stringify(device)));
        const full =
          list.length === q.pageSize ||
          ((list.length > 0 || !atLeastOne) && bytes + size > byteBudget && last !== undefined);
        if (full) return { list, next: bookmarks.encode(fingerprint, last!) };
        bytes += size;
        list.push(device);
        last = key;
      }
      return { list, next: '' };
    },

    async listEvents(id, pageSize, bookmark) {
      const fingerprint = { events: id };
      const after = bookmark ? bookmarks.decode(fingerprint, bookmark, isEventTimestamp) : undefined;
      const events = [...(state.events.get(id)?.values() ?? [])]
        .filter((e) => after === undefined || e.timestamp < after)
        .sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1));
      const list: DeviceEvent[] = events.slice(0, pageSize).map(({ timestamp, type, description, slot }) => ({
        timestamp,
        type,
        description,
        ...(slot === undefined ? {} : { slot }),
      }));
      return { list, next: events.length > pageSize ? bookmarks.encode(fingerprint, list.at(-1)!.timestamp) : '' };
    },

    async stats(filters: readonly Filter[]) {
      if (filters.some((x) => x.kind === 'crypto') && !ready.has(INVENTORY)) throw IndexNotReadyError.inventory();
      return statsOf(all().filter((d) => matchesAll(d, filters)));
    },

    async getSlotVersion(id, slot, version) {
      const doc = state.versions.get(versionKey(id, slot, version));
      return doc === undefined ? undefined : (JSON.parse(doc) as SlotVersion);
    },

    async findSlotVersionsBySerial(serial) {
      const found: SlotVersionRef[] = [];
      for (const doc of state.versions.values()) {
        const version = JSON.parse(doc) as SlotVersion;
        if (serialOf(version) === serial)
          found.push({ deviceId: version.device_id, slot: version.slot, version: version.version });
      }
      return found;
    },

    async saveSlotVersion(version, previous) {
      const key = versionKey(version.device_id, version.slot, version.version);
      if (state.versions.get(key) !== JSON.stringify(previous))
        throw new VersionConflictError(`${version.device_id}/${version.slot}/${version.version}`);
      state.versions.set(key, JSON.stringify(version));
    },

    async firstDue(_shard, now) {
      const due = [...state.devices.values()].flatMap((s) => (s.due !== undefined && s.due <= now ? [s.due] : []));
      return due.length > 0 ? Math.min(...due) : undefined;
    },

    async dueDevices(_shard, now, limit, after) {
      const due = [...state.devices.values()]
        .filter((s): s is StoredDevice & { due: number } => s.due !== undefined && s.due <= now)
        .map((stored) => ({ stored, key: dueKey(JSON.parse(stored.doc).id as string, stored.due) }))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      const { page, next } = pageAfter(due, (d) => d.key, limit, after);
      return { devices: page.map((d) => parse(d.stored)), next, firstDue: page[0]?.stored.due };
    },

    async setDue(id, version, due, policy) {
      const stored = checkVersion(id, version);
      checkPolicy(stored, id, policy);
      if (policy) stored.policy = { ...policy };
      if (due === null) delete stored.due;
      else stored.due = due;
    },

    async devicesOfDms(dms, _shard, limit, after) {
      const members = all()
        .filter((d) => d.dms_owner === dms)
        .sort(byId);
      const { page, next } = pageAfter(members, (d) => d.id, limit, after);
      return { devices: page, next };
    },

    async metadataValues(key, limit) {
      if (!ready.has(key)) throw new IndexNotReadyError(key);
      const byValue = new Map<string, Device[]>();
      for (const device of all()) {
        const text = metadataText(device, key);
        if (text !== undefined) byValue.set(text, [...(byValue.get(text) ?? []), device]);
      }
      return topValues(
        [...byValue].map(([value, devices]): MetadataValueStats => ({ value, stats: statsOf(devices) })),
        limit,
      );
    },

    async expirationsByDay(dms, lastDay) {
      const days = new Map<string, { identity: number; slots: number }>();
      for (const device of all()) {
        if (dms !== undefined && device.dms_owner !== dms) continue;
        // Whole months, as the counters are kept: days after `lastDay` in its month may come too.
        for (const { day, kind } of forecastEntries(device).filter((e) => e.day.slice(0, 7) <= lastDay.slice(0, 7))) {
          const counts = days.get(day) ?? { identity: 0, slots: 0 };
          counts[kind] += 1;
          days.set(day, counts);
        }
      }
      return days;
    },

    async connectivityCounts() {
      const all = [...state.connectivity.values()];
      return { connected: all.filter((c) => c.connected).length, disconnected: all.filter((c) => !c.connected).length };
    },

    async certificateInventory(slot, dimension) {
      if (!ready.has(INVENTORY)) throw IndexNotReadyError.inventory();
      const counts = new Map<string, number>();
      for (const device of all())
        for (const v of inventoryValues(device))
          if (v.slot === slot && v.dimension === dimension) counts.set(v.value, (counts.get(v.value) ?? 0) + 1);
      return counts;
    },

    async backfillIndexes(deadline) {
      // Every stored device is indexed as it is written here: only the keys' state is left to settle.
      const keys = [...indexedMetadataKeys, INVENTORY];
      if (keys.every((k) => ready.has(k))) return { indexed: 0, complete: true };
      if (Date.now() >= deadline) return { indexed: 0, complete: false };
      for (const key of keys) ready.add(key);
      return { indexed: 0, complete: true };
    },
  };
  return repository;
}

/** The hard delete in memory: the device goes, its history (events, slot versions) stays. */
export function memoryDevicePurge(state: MemoryState): DevicePurge {
  return {
    async purge(device, outbox) {
      const stored = state.devices.get(device.id);
      if (!stored || (JSON.parse(stored.doc) as Device).version !== device.version)
        throw new VersionConflictError(device.id);
      state.devices.delete(device.id);
      state.connectivity.delete(device.id);
      appendOutbox(state, outbox);
    },
  };
}
