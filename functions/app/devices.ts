/**
 * Device registry use cases (docs/api.md, Endpoints): register, read, list, patch, decommission, history, stats,
 * and the slot operations: bind a certificate or secret, revoke, read a stored version.
 */
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
import {
  DeviceNotFoundError,
  PolicyMovedError,
  PreconditionFailedError,
  SlotNotFoundError,
  ValidationError,
  VersionConflictError,
} from '../domain/errors';
import type { Filter } from '../domain/filters';
import { deviceCreated, deviceUpdated, type OutboxEvent } from '../domain/outbox';
import { appendLifecycle, lifecycleOf, withLifecycle } from '../domain/lifecycle';
import { defaultPolicy, type DmsPolicy, policyWindows } from '../domain/policy';
import {
  applyCertificateStatus,
  bindSlot,
  type CertificateStatus,
  decommissionDevice,
  IDENTITY_SLOT,
  refreshSlots,
  revokeSlot,
  type RevocationReason,
  slotOf,
  type SlotMaterial,
  type SlotVersion,
} from '../domain/slots';
import { normaliseSerial } from '../domain/certificate';
import { DEFAULT_RENEWAL, type RenewalSettings, type RenewalWindows } from '../domain/status';
import {
  type Clock,
  type DeviceChange,
  type DeviceRepository,
  type DeviceStats,
  type IdGenerator,
  NO_TELEMETRY,
  type Page,
  type PolicyRepository,
  type Telemetry,
} from './ports';
import { deviceReads } from './device-reads';
import { retryOnConflict, type RetryOptions } from './retry';

export interface DeviceServiceDeps {
  devices: DeviceRepository;
  policies: PolicyRepository;
  clock: Clock;
  newId: IdGenerator;
  /** Renewal policy of a DMS that has none stored. */
  defaults?: RenewalSettings;
  /** Backoff and time bound of a blind write (no If-Match) that re-reads and re-applies after losing a version race. */
  retry?: RetryOptions;
  telemetry?: Telemetry;
  /** Record the whole device before and after in each device event (for Lamassu-typed events). */
  deviceSnapshots?: boolean;
}

/** What a mutation computes from the current device; undefined means "nothing to change". */
type Mutation = Omit<DeviceChange, 'before'>;

export type DeviceService = ReturnType<typeof deviceService>;

export function deviceService({
  devices,
  policies,
  clock,
  newId,
  defaults = DEFAULT_RENEWAL,
  retry = {},
  telemetry = NO_TELEMETRY,
  deviceSnapshots = false,
}: DeviceServiceDeps) {
  const reads = deviceReads({ devices });

  /** Every stored change goes through here, so every status change is counted once. */
  async function save(change: DeviceChange): Promise<void> {
    // The lifecycle list (domain/lifecycle.ts) the device item keeps beside its document.
    withLifecycle(change.after, appendLifecycle(change.before ? lifecycleOf(change.before) : [], change.events));
    await devices.save(deviceSnapshots ? withSnapshots(change) : change);
    if (!change.before) telemetry.deviceCreated();
    else if (change.before.status !== change.after.status)
      telemetry.statusChanged(change.before.status, change.after.status);
  }

  async function load(id: string): Promise<Device> {
    const device = await devices.get(id);
    if (!device) throw new DeviceNotFoundError(id);
    return device;
  }

  async function policyOf(dms: string): Promise<DmsPolicy> {
    return (await policies.get(dms)) ?? defaultPolicy(dms, defaults);
  }

  /**
   * Runs a policy-dependent computation with the device's DMS policy and stamps the resulting
   * mutation with the policy version: the write then commits only if the policy is unchanged.
   */
  async function withPolicy(
    device: Device,
    compute: (windows: RenewalWindows) => Promise<Mutation | undefined> | Mutation | undefined,
  ): Promise<Mutation | undefined> {
    const policy = await policyOf(device.dms_owner);
    const mutation = await compute(policyWindows(policy));
    return mutation && { ...mutation, policy: { dms: policy.id, version: policy.version } };
  }

  type Change = (device: Device, now: Date) => Promise<Mutation | undefined> | Mutation | undefined;

  /**
   * One read-modify-write with optimistic concurrency: a lost race throws VersionConflictError for the
   * caller's one retry layer, except with `ifMatch`, where it is the client's 412.
   */
  async function mutateOnce(
    id: string,
    ifMatch: number | undefined,
    change: Change,
    current?: Device,
  ): Promise<{ device: Device; changed: boolean }> {
    current ??= await load(id);
    if (ifMatch !== undefined && current.version !== ifMatch)
      throw new PreconditionFailedError(ifMatch, current.version);
    const mutation = await change(current, clock.now());
    if (!mutation) return { device: current, changed: false };
    try {
      await save({ before: current, ...mutation });
    } catch (error) {
      // With If-Match a lost race is the client's 412 (a moved policy is not: the change is recomputed);
      // without it, the change is retried on the fresh device.
      if (error instanceof VersionConflictError && !(error instanceof PolicyMovedError) && ifMatch !== undefined)
        throw new PreconditionFailedError(ifMatch, current.version + 1);
      throw error;
    }
    return { device: mutation.after, changed: true };
  }

  /**
   * Read-modify-write, re-applied to the fresh device after a lost race, so blind writers never lose
   * updates. `first` lets a caller start from a device it has read already (the sweeper's index read).
   */
  function mutate(
    id: string,
    ifMatch: number | undefined,
    change: Change,
    first?: Device,
  ): Promise<{ device: Device; changed: boolean }> {
    return retryOnConflict(retry, `device ${id}`, (attempt) =>
      mutateOnce(id, ifMatch, change, attempt === 0 ? first : undefined),
    );
  }

  /** Builds the events of a change and the device document that records them inline. */
  function record(
    before: Device,
    next: Omit<Device, 'events' | 'version'>,
    now: Date,
    kinds: Omit<DeviceEvent, 'timestamp'>[],
  ) {
    const stamps = nextEventTimestamps(before, now, kinds.length);
    const events = kinds.map((k, i) => ({ ...k, timestamp: stamps[i]! }));
    const after: Device = { ...next, events: withInlineEvents(before.events, events), version: before.version + 1 };
    return { after, events, time: stamps[0]! };
  }

  async function activeVersion(device: Device, slot: string): Promise<SlotVersion | undefined> {
    const current = slotOf(device, slot);
    return current ? devices.getSlotVersion(device.id, slot, current.active_version) : undefined;
  }

  return {
    async register(input: NewDeviceInput): Promise<Device> {
      const now = clock.now();
      const { device, event } = newDevice(input, now);
      await save({ after: device, events: [event], outbox: [deviceCreated(newId(), device, event.timestamp)] });
      return device;
    },

    get: load,

    list: reads.list,

    async patch(id: string, mediaType: string, patch: unknown, ifMatch?: number): Promise<Device> {
      // Loaded on first use: the patch rules bring the request schemas (zod) and fast-json-patch,
      // which a function that never patches should not load at its cold start.
      const { applyShadowPatch } = await import('../domain/patch');
      const { device } = await mutate(id, ifMatch, (current, now) => {
        const shadow: DeviceShadow = applyShadowPatch(shadowOf(current), mediaType, patch);
        if (JSON.stringify(shadow) === JSON.stringify(shadowOf(current))) return undefined;
        const { after, events, time } = record(current, { ...current, ...shadow }, now, [
          { type: 'SHADOW-UPDATED', description: `Updated ${changedFields(shadowOf(current), shadow).join(', ')}` },
        ]);
        return { after, events, outbox: [deviceUpdated(newId(), current, after, time)] };
      });
      return device;
    },

    /** Decommission: terminal; revokes the active identity; idempotent. */
    async decommission(id: string, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, async (current, now) => {
        if (current.status === 'DECOMMISSIONED') return undefined;
        const active = await activeVersion(current, IDENTITY_SLOT);
        return withPolicy(current, (windows) => decommissionDevice(current, active, windows, now, newId));
      });
      return device;
    },

    /** Binds a certificate or secret to the identity slot or an extra slot. */
    async bind(id: string, slot: string, material: SlotMaterial, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, async (current, now) => {
        const previous = await activeVersion(current, slot);
        return withPolicy(current, (windows) =>
          bindSlot({ device: current, slot, material, previous, policy: windows, now, ids: newId }),
        );
      });
      return device;
    },

    /** Revokes the active version of a slot; revoking a revoked slot returns the device unchanged. */
    async revoke(id: string, slot: string, reason: RevocationReason, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, async (current, now) => {
        const existing = slotOf(current, slot);
        if (!existing) throw new SlotNotFoundError(id, slot);
        const active = await activeVersion(current, slot);
        return withPolicy(current, (windows) =>
          revokeSlot({ device: current, slot, reason, active, policy: windows, now, ids: newId }),
        );
      });
      return device;
    },

    /**
     * A certificate status reported by the CA (`certificate.status.update`): every stored version
     * holding the serial follows it. The slot's active version changes the device through the same
     * mutation path as the API (events, statistics, outbox, version item); a superseded version only
     * has its version item rewritten. An empty result means the serial belongs to no device.
     */
    async applyCertificateStatus(
      serial: string,
      status: CertificateStatus,
      reason?: RevocationReason,
    ): Promise<CertificateStatusResult[]> {
      const refs = await devices.findSlotVersionsBySerial(normaliseSerial(serial));
      const results: CertificateStatusResult[] = [];
      for (const ref of refs) {
        let result: CertificateStatusResult = {
          device_id: ref.deviceId,
          slot: ref.slot,
          version: ref.version,
          outcome: 'unchanged',
          note: 'device not found',
        };
        // One retry layer: a lost race on the device or on the version item re-reads both and decides again.
        await retryOnConflict(retry, `slot version ${ref.slot}/${ref.version} of device ${ref.deviceId}`, async () => {
          // Set by the change when only a superseded version item is to be rewritten.
          const versionOnly: { next?: SlotVersion; stored?: SlotVersion } = {};
          const { changed } = await mutateOnce(ref.deviceId, undefined, async (device, now) => {
            const stored = await devices.getSlotVersion(ref.deviceId, ref.slot, ref.version);
            if (!stored) {
              result = { ...result, note: 'version not found' };
              return undefined;
            }
            const policy = await policyOf(device.dms_owner);
            const outcome = applyCertificateStatus({
              device,
              version: stored,
              status,
              reason,
              policy: policyWindows(policy),
              now,
              ids: newId,
            });
            if (outcome.kind === 'mutation') {
              result = {
                ...result,
                outcome: 'changed',
                note: `device status ${device.status} -> ${outcome.mutation.after.status}`,
              };
              return { ...outcome.mutation, policy: { dms: policy.id, version: policy.version } };
            }
            if (outcome.kind === 'version') {
              Object.assign(versionOnly, { next: outcome.version, stored });
              result = {
                ...result,
                outcome: 'version-updated',
                note: `superseded version is now ${outcome.version.status}`,
              };
            } else result = { ...result, outcome: 'unchanged', note: outcome.note };
            return undefined;
          }).catch((error: unknown) => {
            // An index entry without its device cannot happen through the use cases; report, do not fail.
            if (error instanceof DeviceNotFoundError) return { changed: false };
            throw error;
          });
          if (changed || !versionOnly.next || !versionOnly.stored) return;
          // A VersionConflictError here: the version item moved (another report, a revocation).
          await devices.saveSlotVersion(versionOnly.next, versionOnly.stored);
        });
        results.push(result);
      }
      return results;
    },

    async slotVersion(id: string, slot: string, version: number): Promise<SlotVersion> {
      await load(id);
      const stored = await devices.getSlotVersion(id, slot, version);
      if (!stored) throw new SlotNotFoundError(id, slot, version);
      return stored;
    },

    /**
     * Time-driven re-evaluation of one device (the sweeper): persists status changes, or only moves
     * the device in the due index. Racing sweepers cannot record a transition twice: the loser's
     * conditional write fails, it re-reads, and finds nothing left to change.
     */
    async refresh(found: Device, policyCache?: Map<string, DmsPolicy>): Promise<boolean> {
      const policyFor = async (device: Device) => {
        const cached = policyCache?.get(device.dms_owner);
        if (cached) return cached;
        const policy = await policyOf(device.dms_owner);
        policyCache?.set(device.dms_owner, policy);
        return policy;
      };
      let transitioned = false;
      return retryOnConflict(retry, `device ${found.id}`, async (attempt) => {
        const device = attempt === 0 ? found : await devices.get(found.id);
        if (!device) return transitioned;
        const policy = await policyFor(device);
        const used = { dms: policy.id, version: policy.version };
        const { mutation, due } = refreshSlots(device, policyWindows(policy), clock.now(), newId);
        try {
          if (mutation) {
            await save({ before: device, ...mutation, policy: used });
            transitioned = true;
          } else await devices.setDue(device.id, device.version, due, used);
          return transitioned;
        } catch (error) {
          // The device or its policy moved: read both again.
          if (error instanceof VersionConflictError) policyCache?.delete(device.dms_owner);
          throw error;
        }
      });
    },

    async events(id: string, pageSize: number, bookmark?: string): Promise<Page<DeviceEvent>> {
      await load(id);
      return devices.listEvents(id, pageSize, bookmark);
    },

    stats(filters: readonly Filter[]): Promise<DeviceStats> {
      if (filters.some((f) => f.field === 'status'))
        throw new ValidationError('statistics cannot be filtered by status', [
          { field: 'filter', problem: "'status' is not accepted by statistics" },
        ]);
      return devices.stats(filters);
    },

    statsOfMatching: reads.statsOfMatching,
  };
}

/** The events whose Lamassu form carries whole devices their own data lacks. */
const SNAPSHOT_TYPES: ReadonlySet<string> = new Set([
  'device.update',
  'device.status.update',
  'device.identity.update',
]);

/** Those events of the change also record the whole device before and after. */
function withSnapshots(change: DeviceChange): DeviceChange {
  const devices = { previous: change.before ?? null, updated: change.after };
  return { ...change, outbox: change.outbox.map((e) => (SNAPSHOT_TYPES.has(e.type) ? { ...e, devices } : e)) };
}

function changedFields(before: DeviceShadow, after: DeviceShadow): string[] {
  return (Object.keys(after) as (keyof DeviceShadow)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
}

/** What a reported certificate status did to one stored version holding the serial. */
export interface CertificateStatusResult {
  device_id: string;
  slot: string;
  version: number;
  /** `changed`: the device changed (events, outbox); `version-updated`: only a superseded version item. */
  outcome: 'changed' | 'version-updated' | 'unchanged';
  note: string;
}

export type { OutboxEvent };
