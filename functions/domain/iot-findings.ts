/**
 * The `revoked-still-active-in-iot` check (docs/api.md, Fleet posture): a device whose identity
 * certificate the registry has taken out of service (revoked, or the device decommissioned) while
 * AWS IoT may still accept it. AWS IoT is changed by the IoT sync, outside the device's transaction,
 * so the finding opens in the transaction of the change that retires the certificate (AWS IoT still
 * holds it ACTIVE until the sync's call lands) and resolves when the sync has brought AWS IoT to the
 * device as stored: a failed or retried sync keeps it open. Pure.
 */
import type { Device } from './device';
import type { DeviceFinding } from './findings';
import { IDENTITY_SLOT } from './slots';

export const IOT_CHECK = 'revoked-still-active-in-iot';

export const isIotFinding = (finding: DeviceFinding): boolean => finding.check === IOT_CHECK;

/**
 * Why AWS IoT must no longer accept the device's identity certificate (the sync's goal for it is
 * INACTIVE or REVOKED), or undefined while it may: only an x509 identity is ever synced to AWS IoT.
 */
export function retiredInIot(device: Device | undefined): string | undefined {
  const identity = device?.identity;
  if (!identity || identity.type !== 'x509') return undefined;
  const certificate = `identity certificate version ${identity.active_version}`;
  if (device!.status === 'DECOMMISSIONED') return `device decommissioned; ${certificate} not yet disabled in AWS IoT`;
  if (identity.status === 'REVOKED') return `${certificate} revoked in the registry, not yet disabled in AWS IoT`;
  return undefined;
}

/**
 * The device's findings after a change with the IoT check applied (the other checks judged already):
 * - it opens when the change retires the identity certificate (an open one keeps its `since` and
 *   takes the new detail);
 * - it resolves when the change puts the same certificate back in service (a hold released): AWS IoT
 *   is to accept it again;
 * - otherwise it stays as it is: a certificate re-provisioned after a revocation leaves the revoked
 *   one to the sync, which takes it out of service and then resolves the finding (resolveIot in app/device-changes.ts).
 * Returns `findings` itself when nothing changes.
 */
export function withIotFinding(
  before: Device | undefined,
  after: Device,
  findings: readonly DeviceFinding[],
  time: string,
): readonly DeviceFinding[] {
  const open = findings.find(isIotFinding);
  const retired = retiredInIot(after);
  if (retired && !retiredInIot(before)) {
    if (open?.detail === retired) return findings;
    const finding: DeviceFinding = {
      check: IOT_CHECK,
      slot: IDENTITY_SLOT,
      since: open?.since ?? time,
      detail: retired,
    };
    // The last check in postureCheckNames order, on the identity slot: it goes last.
    return [...findings.filter((f) => !isIotFinding(f)), finding];
  }
  const backInService =
    open && !retired && retiredInIot(before) && before!.identity!.active_version === after.identity?.active_version;
  return backInService ? findings.filter((f) => !isIotFinding(f)) : findings;
}
