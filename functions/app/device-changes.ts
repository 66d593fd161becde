/**
 * The one write path of a device, shared by every device use case: read, compute a change with the
 * device's DMS policy, save it with optimistic concurrency (re-applied after a lost race, or the
 * client's 412 with If-Match), and count what operators count.
 */
import { type Device, type DeviceEvent, nextEventTimestamps, withInlineEvents } from '../domain/device';
import { DeviceNotFoundError, PolicyMovedError, PreconditionFailedError, VersionConflictError } from '../domain/errors';
import { appendLifecycle, lifecycleOf, withLifecycle } from '../domain/lifecycle';
import { defaultPolicy, type DmsPolicy, policyWindows } from '../domain/policy';
import { type DeviceFinding, findingEvents, sortFindings, storedFindingsOf, withFindings } from '../domain/findings';
import { isIotFinding, withIotFinding } from '../domain/iot-findings';
import {
  carriedSharedFindings,
  holdingsOf,
  isSharedFinding,
  judgedUnder,
  type KeyHolder,
  withSharedFindings,
} from '../domain/shared-holdings';
import { slotOf, type SlotVersion } from '../domain/slots';
import { DEFAULT_RENEWAL, type RenewalSettings, type RenewalWindows } from '../domain/status';
import {
  type Clock,
  type DeviceChange,
  type DeviceStore,
  type IdGenerator,
  NO_TELEMETRY,
  type PolicyRepository,
  type PostureRepository,
  type SlotVersionStore,
  type Telemetry,
} from './ports';
import { assess, currentPosture, sameFindings } from './posture-assessment';
import { retryOnConflict, type RetryOptions } from './retry';

export interface DeviceChangeDeps {
  devices: DeviceStore & SlotVersionStore;
  policies: Pick<PolicyRepository, 'get' | 'getMany'>;
  clock: Clock;
  newId: IdGenerator;
  /** Renewal policy of a DMS that has none stored. */
  defaults?: RenewalSettings;
  /** Backoff and time bound of a blind write (no If-Match) that re-reads and re-applies after losing a version race. */
  retry?: RetryOptions;
  telemetry?: Telemetry;
  /** Record the whole device before and after in each device event (for Lamassu-typed events). */
  deviceSnapshots?: boolean;
  /** The posture policy and its stamp: with it every change keeps the device's findings (posture-assessment.ts). */
  posture?: Pick<PostureRepository, 'get' | 'stamp'>;
  /** The IoT sync is on: a change that retires an identity certificate opens `revoked-still-active-in-iot`. */
  iotSync?: boolean;
}

/** What a mutation computes from the current device; undefined means "nothing to change". */
export type Mutation = Omit<DeviceChange, 'before'>;

export type DeviceChanges = ReturnType<typeof deviceChanges>;

/** A change computed from the current device at `now`; undefined means "nothing to change". */
export type Change = (device: Device, now: Date) => Promise<Mutation | undefined> | Mutation | undefined;

export function deviceChanges({
  devices,
  policies,
  clock,
  newId,
  posture,
  defaults = DEFAULT_RENEWAL,
  retry = {},
  telemetry = NO_TELEMETRY,
  deviceSnapshots = false,
  iotSync = false,
}: DeviceChangeDeps) {
  const assessment = posture && { policy: () => posture.get(), versions: devices, newId };

  /** Every stored change goes through here, so every status change is counted once. */
  async function save(change: DeviceChange): Promise<void> {
    await store(withIot(await judged(change)));
  }

  /**
   * The change with `revoked-still-active-in-iot` opened or resolved (domain/iot-findings.ts), for a
   * device whose findings are kept (one not assessed yet is left to the walk, as for the other checks).
   */
  function withIot(change: DeviceChange): DeviceChange {
    const state = iotSync ? storedFindingsOf(change.after) : undefined;
    if (!state) return change;
    const time = clock.now().toISOString();
    const findings = withIotFinding(change.before, change.after, state.findings, time);
    if (findings === state.findings) return change;
    withFindings(change.after, { ...state, findings: [...findings] });
    const outbox = findingEvents(change.after.id, state.findings, findings, time, newId);
    return { ...change, outbox: [...change.outbox, ...outbox] };
  }

  /**
   * The change with the device's posture findings judged again (or kept), as every stored change has them.
   * The shared checks are judged on the stream (shared-findings.ts): a change only carries those of the
   * slots still holding the fingerprint they name (withShared).
   */
  async function judged(change: DeviceChange): Promise<DeviceChange> {
    const now = clock.now();
    const judgement = assessment && (await assess(assessment, change.before, change.after, change.versions ?? [], now));
    const kept = change.before && storedFindingsOf(change.before);
    const base = judgement?.state ?? kept;
    if (!base) return change;
    const previous = kept?.findings ?? [];
    const findings = withShared(base.findings, change.after, previous);
    withFindings(change.after, { policy_version: base.policy_version, findings });
    const outbox = findingEvents(change.after.id, previous, findings, now.toISOString(), newId);
    return {
      ...change,
      ...(judgement ? { posture: judgement.posture } : {}),
      outbox: [...change.outbox, ...outbox],
    };
  }

  async function store(change: DeviceChange): Promise<void> {
    // The lifecycle list (domain/lifecycle.ts) the device item keeps beside its document.
    withLifecycle(change.after, appendLifecycle(change.before ? lifecycleOf(change.before) : [], change.events));
    await devices.save(deviceSnapshots ? withSnapshots(change) : change);
    if (!change.before) telemetry.deviceCreated();
    else if (change.before.status !== change.after.status)
      telemetry.statusChanged(change.before.status, change.after.status);
  }

  /** New devices several to a transaction (a bulk import); see DeviceStore.saveNew. */
  async function saveNew(given: readonly DeviceChange[]): Promise<{ created: string[]; refused: string[] }> {
    const changes = await Promise.all(given.map(judged));
    for (const change of changes) withLifecycle(change.after, appendLifecycle([], change.events));
    const outcome = await devices.saveNew(deviceSnapshots ? changes.map(withSnapshots) : changes);
    outcome.created.forEach(() => telemetry.deviceCreated());
    return outcome;
  }

  async function load(id: string): Promise<Device> {
    const device = await devices.get(id);
    if (!device) throw new DeviceNotFoundError(id);
    return device;
  }

  async function policyOf(dms: string): Promise<DmsPolicy> {
    return (await policies.get(dms)) ?? defaultPolicy(dms, defaults);
  }

  /** The policies of several DMSs, in one read when the repository can (PolicyRepository.getMany). */
  async function policiesOf(dms: readonly string[]): Promise<Map<string, DmsPolicy>> {
    const ids = [...new Set(dms)];
    if (!policies.getMany) return new Map(await Promise.all(ids.map(async (id) => [id, await policyOf(id)] as const)));
    const stored = await policies.getMany(ids);
    return new Map(ids.map((id) => [id, stored.get(id) ?? defaultPolicy(id, defaults)]));
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

  /**
   * Judges a device's findings again with the current posture policy (the re-evaluation walk): a
   * change of findings is a device change (version bump, `device.finding.*` events); the same
   * findings only stamp the policy version. Re-read and judged again after a lost race.
   */
  async function reassess(found: Device): Promise<'changed' | 'stamped'> {
    if (!assessment || !posture) throw new Error('posture is not configured');
    return retryOnConflict(retry, `device ${found.id}`, async (attempt) => {
      const device = attempt === 0 ? found : await load(found.id);
      const current = await currentPosture(assessment);
      const after: Device = { ...device, version: device.version + 1 };
      const now = clock.now();
      const judged = (await assess(assessment, device, after, [], now, { force: true, preloaded: current }))!;
      const previous = storedFindingsOf(device)?.findings ?? [];
      const findings = withShared(judged.state.findings, after, previous);
      if (sameFindings(previous, findings)) {
        await posture.stamp(device, current.version);
        return 'stamped';
      }
      withFindings(after, { ...judged.state, findings });
      const outbox = findingEvents(device.id, previous, findings, now.toISOString(), newId);
      await store({ before: device, after, events: [], outbox, posture: judged.posture });
      return 'changed';
    });
  }

  /**
   * The IoT sync brought AWS IoT to the device at `version`: its `revoked-still-active-in-iot` finding
   * resolves, as a change of that version only ('moved' when the device changed since: the sync then
   * brings AWS IoT to the newer one first).
   */
  async function resolveIot(id: string, version: number): Promise<'resolved' | 'moved' | 'none'> {
    const device = await load(id);
    const state = storedFindingsOf(device);
    if (!state?.findings.some(isIotFinding)) return 'none';
    if (device.version !== version) return 'moved';
    const after: Device = { ...device, version: device.version + 1 };
    const findings = state.findings.filter((f) => !isIotFinding(f));
    withFindings(after, { ...state, findings });
    const outbox = findingEvents(id, state.findings, findings, clock.now().toISOString(), newId);
    try {
      await store({ before: device, after, events: [], outbox });
    } catch (error) {
      if (error instanceof VersionConflictError) return 'moved';
      throw error;
    }
    return 'resolved';
  }

  /**
   * Judges the shared checks of one public key's fingerprints for a device, given every holder of the
   * key (shared-findings.ts): a change of its findings is a device change with its events, re-read and
   * judged again after a lost race. 'none' when nothing moved (or the device is gone or not assessed).
   */
  async function judgeShared(id: string, publicKey: string, holders: readonly KeyHolder[]) {
    return retryOnConflict(retry, `device ${id}`, async (): Promise<'changed' | 'none'> => {
      const device = await devices.get(id);
      const state = device && storedFindingsOf(device);
      if (!device || !state) return 'none';
      const judged = judgedUnder(device, publicKey, holders);
      const time = clock.now().toISOString();
      const findings = sortFindings(withSharedFindings(state.findings, holdingsOf(device), judged, time));
      if (sameFindings(state.findings, findings)) return 'none';
      const after: Device = { ...device, version: device.version + 1 };
      withFindings(after, { ...state, findings });
      const outbox = findingEvents(id, state.findings, findings, time, newId);
      await store({ before: device, after, events: [], outbox });
      return 'changed';
    });
  }

  return {
    save,
    saveNew,
    load,
    resolveIot,
    judgeShared,
    policyOf,
    policiesOf,
    withPolicy,
    mutateOnce,
    mutate,
    record,
    activeVersion,
    reassess,
  };
}

/**
 * A change's findings: those judged (or kept) without the shared checks, and the shared findings of
 * `previous` the device still holds the fingerprint of (carriedSharedFindings).
 */
function withShared(findings: readonly DeviceFinding[], after: Device, previous: readonly DeviceFinding[]) {
  return sortFindings([...findings.filter((f) => !isSharedFinding(f)), ...carriedSharedFindings(after, previous)]);
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
