/** The interfaces use cases need; adapters implement them, the composition root wires them. */
import type { Device, DeviceEvent, DeviceStatus } from '../domain/device';
import type { Filter } from '../domain/filters';
import type { OutboxEvent } from '../domain/outbox';
import type { DeviceListQuery } from '../domain/query';

export interface Clock {
  now(): Date;
}

export type IdGenerator = () => string;

export interface Page<T> {
  next: string;
  list: T[];
}

/** One atomic change of one device: the device, its new events and the outbox records. */
export interface DeviceChange {
  /** The stored device the change was computed from; absent for a registration. */
  before?: Device;
  after: Device;
  events: DeviceEvent[];
  outbox: OutboxEvent[];
}

export type StatusDistribution = Record<DeviceStatus, number>;

export interface DeviceStats {
  total: number;
  status_distribution: StatusDistribution;
}

export interface DeviceRepository {
  get(id: string): Promise<Device | undefined>;
  /**
   * Writes the change atomically. Throws DeviceAlreadyExistsError when registering an existing id,
   * VersionConflictError when `before.version` is no longer the stored version.
   */
  save(change: DeviceChange): Promise<void>;
  list(query: DeviceListQuery): Promise<Page<Device>>;
  listEvents(id: string, pageSize: number, bookmark?: string): Promise<Page<DeviceEvent>>;
  /** Exact statistics of the devices matching the filters (which never include `status`). */
  stats(filters: readonly Filter[]): Promise<DeviceStats>;
}
