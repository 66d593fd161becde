/** Device registry use cases (CONTRACT §4): register, read, list, patch, decommission, history, stats. */
import {
  type Device,
  type DeviceEvent,
  type DeviceShadow,
  type NewDeviceInput,
  newDevice,
  nextEventTimestamps,
  shadowOf,
  withInlineEvents,
} from '../domain/device';
import { ContentionError, DeviceNotFoundError, PreconditionFailedError, ValidationError, VersionConflictError } from '../domain/errors';
import type { Filter } from '../domain/filters';
import { deviceCreated, deviceDecommissioned, deviceUpdated, statusUpdated, type OutboxEvent } from '../domain/outbox';
import { applyShadowPatch } from '../domain/patch';
import type { DeviceListQuery } from '../domain/query';
import type { Clock, DeviceRepository, DeviceStats, IdGenerator, Page } from './ports';

export interface DeviceServiceDeps {
  devices: DeviceRepository;
  clock: Clock;
  newId: IdGenerator;
  /** How many times a blind write (no If-Match) re-reads and re-applies after losing a version race. */
  maxVersionRetries?: number;
}

/** What a mutation computes from the current device; undefined means "nothing to change". */
interface Mutation {
  after: Device;
  events: DeviceEvent[];
  outbox: OutboxEvent[];
}

export type DeviceService = ReturnType<typeof deviceService>;

export function deviceService({ devices, clock, newId, maxVersionRetries = 10 }: DeviceServiceDeps) {
  async function load(id: string): Promise<Device> {
    const device = await devices.get(id);
    if (!device) throw new DeviceNotFoundError(id);
    return device;
  }

  /**
   * Read-modify-write with optimistic concurrency. With `ifMatch` a lost race is the client's 412;
   * without it the change is re-applied to the fresh device, so blind writers never lose updates.
   */
  async function mutate(id: string, ifMatch: number | undefined, change: (device: Device, now: Date) => Mutation | undefined): Promise<Device> {
    for (let attempt = 0; attempt <= maxVersionRetries; attempt++) {
      const current = await load(id);
      if (ifMatch !== undefined && current.version !== ifMatch) throw new PreconditionFailedError(ifMatch, current.version);
      const mutation = change(current, clock.now());
      if (!mutation) return current;
      try {
        await devices.save({ before: current, ...mutation });
        return mutation.after;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        if (ifMatch !== undefined) throw new PreconditionFailedError(ifMatch, current.version + 1);
      }
    }
    throw new ContentionError(`device ${id} is being changed concurrently; try again`);
  }

  /** Builds the events of a change and the device document that records them inline. */
  function record(before: Device, next: Omit<Device, 'events' | 'version'>, now: Date, kinds: Omit<DeviceEvent, 'timestamp'>[]) {
    const stamps = nextEventTimestamps(before, now, kinds.length);
    const events = kinds.map((k, i) => ({ ...k, timestamp: stamps[i]! }));
    const after: Device = { ...next, events: withInlineEvents(before.events, events), version: before.version + 1 };
    return { after, events, time: stamps[0]! };
  }

  return {
    async register(input: NewDeviceInput): Promise<Device> {
      const now = clock.now();
      const { device, event } = newDevice(input, now);
      await devices.save({ after: device, events: [event], outbox: [deviceCreated(newId(), device, event.timestamp)] });
      return device;
    },

    get: load,

    list(query: DeviceListQuery): Promise<Page<Device>> {
      return devices.list(query);
    },

    async patch(id: string, mediaType: string, patch: unknown, ifMatch?: number): Promise<Device> {
      return mutate(id, ifMatch, (current, now) => {
        const shadow: DeviceShadow = applyShadowPatch(shadowOf(current), mediaType, patch);
        if (JSON.stringify(shadow) === JSON.stringify(shadowOf(current))) return undefined;
        const { after, events, time } = record(current, { ...current, ...shadow }, now, [
          { type: 'SHADOW-UPDATED', description: `Updated ${changedFields(shadowOf(current), shadow).join(', ')}` },
        ]);
        return { after, events, outbox: [deviceUpdated(newId(), current, after, time)] };
      });
    },

    /** Decommission: terminal; idempotent (a decommissioned device is returned unchanged). */
    async decommission(id: string, ifMatch?: number): Promise<Device> {
      return mutate(id, ifMatch, (current, now) => {
        if (current.status === 'DECOMMISSIONED') return undefined;
        const { after, events, time } = record(current, { ...current, status: 'DECOMMISSIONED' }, now, [
          { type: 'DECOMMISSIONED', description: 'Device decommissioned' },
          { type: 'STATUS-UPDATED', description: `Status updated from '${current.status}' to 'DECOMMISSIONED'` },
        ]);
        return {
          after,
          events,
          outbox: [deviceDecommissioned(newId(), current, after, time), statusUpdated(newId(), id, current.status, 'DECOMMISSIONED', events[1]!.timestamp)],
        };
      });
    },

    async events(id: string, pageSize: number, bookmark?: string): Promise<Page<DeviceEvent>> {
      await load(id);
      return devices.listEvents(id, pageSize, bookmark);
    },

    stats(filters: readonly Filter[]): Promise<DeviceStats> {
      if (filters.some((f) => f.field === 'status'))
        throw new ValidationError('statistics cannot be filtered by status', [{ field: 'filter', problem: "'status' is not accepted by statistics" }]);
      return devices.stats(filters);
    },
  };
}

function changedFields(before: DeviceShadow, after: DeviceShadow): string[] {
  return (Object.keys(after) as (keyof DeviceShadow)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}
