/**
 * The state the in-memory ports share, as one table would: devices, their history and slot
 * versions, DMS policies and their re-evaluation jobs, groups, and every outbox record written.
 * Documents are kept as JSON text, so a caller mutating what it read never changes what is stored.
 */
import type { PolicyJob } from '../../../functions/app/ports';
import type { StoredConnectivity } from '../../../functions/domain/connectivity';
import type { DeviceEvent } from '../../../functions/domain/device';
import { PolicyMovedError } from '../../../functions/domain/errors';
import type { LifecycleEvent } from '../../../functions/domain/lifecycle';
import type { OutboxEvent } from '../../../functions/domain/outbox';

export interface StoredDevice {
  doc: string;
  /** The lifecycle list the device was written with (domain/lifecycle.ts), if any. */
  lifecycle?: LifecycleEvent[];
  /** Next status boundary (epoch ms): the device's place in the due index. */
  due?: number;
  /** The DMS policy the device was last evaluated with (the policy fence). */
  policy?: { dms: string; version: number };
}

export interface MemoryState {
  devices: Map<string, StoredDevice>;
  /** Per device id: its events by timestamp (kept after a purge, like the table's history). */
  events: Map<string, Map<string, DeviceEvent>>;
  /** Slot version documents by `versionKey`. */
  versions: Map<string, string>;
  /** Policy documents by DMS id. */
  policies: Map<string, string>;
  jobs: Map<string, PolicyJob>;
  /** Group documents by id. */
  groups: Map<string, string>;
  /** Group name reservations: name key → group id. */
  groupNames: Map<string, string>;
  hierarchyVersion: number;
  /** Every outbox record written, in commit order (what the stream would carry to the publisher). */
  outbox: OutboxEvent[];
  /** Each device's connectivity (presence events), with its status at that write; removed with the device. */
  connectivity: Map<string, StoredConnectivity & { status: string }>;
}

export function memoryState(): MemoryState {
  return {
    devices: new Map(),
    events: new Map(),
    versions: new Map(),
    policies: new Map(),
    jobs: new Map(),
    groups: new Map(),
    groupNames: new Map(),
    hierarchyVersion: 0,
    outbox: [],
    connectivity: new Map(),
  };
}

export const versionKey = (id: string, slot: string, version: number) => `${id}\u0000${slot}\u0000${version}`;

/** Throws PolicyMovedError when `policy` (version 0: no stored policy) is no longer the stored one. */
/** The policy fence: a change computed with an older policy of the device's DMS than it was evaluated with fails. */
export function checkPolicy(stored: StoredDevice | undefined, id: string, policy?: { dms: string; version: number }) {
  if (!policy || !stored?.policy) return;
  if (stored.policy.dms === policy.dms && stored.policy.version > policy.version) throw new PolicyMovedError(id);
}

/** JSON copies of outbox records, as the stream would deliver them. */
export function appendOutbox(state: MemoryState, outbox: readonly OutboxEvent[]): void {
  for (const event of outbox) state.outbox.push(JSON.parse(JSON.stringify(event)) as OutboxEvent);
}
