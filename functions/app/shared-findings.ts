/**
 * The `shared-certificate` and `shared-key` findings of one device change (docs/api.md, Fleet
 * posture): the fingerprints the device holds after it are counted in their items (read strongly
 * consistent, written in the change's transaction conditioned on what was read), its slots holding
 * a fingerprint another device holds get the finding, and when a count crosses 1 ↔ 2 the one other
 * holder's finding opens or resolves in the same transaction (a companion change of that device).
 */
import type { Device } from '../domain/device';
import { type DeviceFinding, findingEvents, sortFindings, storedFindingsOf, withFindings } from '../domain/findings';
import { lifecycleOf, withLifecycle } from '../domain/lifecycle';
import type { OutboxEvent } from '../domain/outbox';
import {
  type FingerprintHolders,
  type HoldingKey,
  holdingChanges,
  holdingsOf,
  otherHolder,
  recordedHoldingsOf,
  withHoldings,
  withSharedFindings,
} from '../domain/shared-holdings';
import type { DeviceChange, HoldingMove } from './ports';

export interface SharedDeps {
  holders(key: HoldingKey): Promise<FingerprintHolders>;
  load(id: string): Promise<Device | undefined>;
  newId: () => string;
}

export interface SharedPlan {
  /** The device's findings with its shared checks judged. */
  findings: DeviceFinding[];
  holdings: { recorded: HoldingKey[]; moves: HoldingMove[] };
  companions: DeviceChange[];
}

/**
 * Judges the shared checks of `after` on top of `findings` (its other checks, judged already).
 * Undefined when there is nothing to judge: `judge` false (no slot judged) and no fingerprint moved.
 */
export async function planShared(
  deps: SharedDeps,
  before: Device | undefined,
  after: Device,
  findings: readonly DeviceFinding[],
  time: string,
  judge: boolean,
): Promise<SharedPlan | undefined> {
  const recorded = (before && recordedHoldingsOf(before)) ?? [];
  const held = holdingsOf(after);
  const { joins, leaves } = holdingChanges(recorded, held);
  if (!judge && joins.length === 0 && leaves.length === 0) return undefined;
  const keys = [...new Set([...held.keys(), ...leaves])];
  const read = new Map(await Promise.all(keys.map(async (key) => [key, await deps.holders(key)] as const)));
  // Another device holds it: the count less this device when it is counted already.
  const shared = new Map(
    [...held.keys()].map((key) => [key, read.get(key)!.count - (joins.includes(key) ? 0 : 1) >= 1]),
  );
  const moves: HoldingMove[] = [
    ...joins.map((key): HoldingMove => ({ key, move: 'join', before: read.get(key)! })),
    ...leaves.map((key): HoldingMove => ({ key, move: 'leave', before: read.get(key)! })),
  ];
  return {
    findings: sortFindings(withSharedFindings(findings, held, shared, time)),
    holdings: { recorded: [...held.keys()], moves },
    companions: await companions(deps, after.id, moves, time),
  };
}

/** The other holders whose finding opens or resolves, one change per device (its certificate and key together). */
async function companions(
  deps: SharedDeps,
  self: string,
  moves: readonly HoldingMove[],
  time: string,
): Promise<DeviceChange[]> {
  const byDevice = new Map<string, Map<HoldingKey, boolean>>();
  for (const { key, move, before } of moves) {
    const other = otherHolder(before, self, move);
    if (other) byDevice.set(other.id, (byDevice.get(other.id) ?? new Map()).set(key, other.shared));
  }
  const changes: DeviceChange[] = [];
  for (const [id, judged] of byDevice) {
    const other = await deps.load(id);
    const state = other && storedFindingsOf(other);
    if (!other || !state) continue;
    const recorded = recordedHoldingsOf(other) ?? [];
    // Only what the other device is counted under (a change of it may be on its way).
    const counted = new Map([...judged].filter(([key]) => recorded.includes(key)));
    const findings = sortFindings(withSharedFindings(state.findings, holdingsOf(other), counted, time));
    const outbox: OutboxEvent[] = findingEvents(id, state.findings, findings, time, deps.newId);
    if (outbox.length === 0) continue;
    const after = withHoldings({ ...other, version: other.version + 1 }, recorded);
    withFindings(after, { policy_version: state.policy_version, findings });
    withLifecycle(after, lifecycleOf(other));
    changes.push({ before: other, after, events: [], outbox });
  }
  return changes;
}
