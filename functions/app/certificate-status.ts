/**
 * A certificate status reported by the CA (`certificate.status.update`): every stored version
 * holding the serial follows it. The slot's active version changes the device through the same
 * mutation path as the API (events, statistics, outbox, version item); a superseded version only
 * has its version item rewritten.
 */
import { normaliseSerial } from '../domain/certificate';
import { DeviceNotFoundError } from '../domain/errors';
import { policyWindows } from '../domain/policy';
import {
  applyCertificateStatus,
  type CertificateStatus,
  type RevocationReason,
  type SlotVersion,
} from '../domain/slots';
import type { DeviceChanges } from './device-changes';
import type { IdGenerator, SlotVersionStore } from './ports';
import { retryOnConflict, type RetryOptions } from './retry';

/** What a reported certificate status did to one stored version holding the serial. */
export interface CertificateStatusResult {
  device_id: string;
  slot: string;
  version: number;
  /** `changed`: the device changed (events, outbox); `version-updated`: only a superseded version item. */
  outcome: 'changed' | 'version-updated' | 'unchanged';
  note: string;
}

interface CertificateStatusDeps {
  devices: SlotVersionStore;
  newId: IdGenerator;
  retry?: RetryOptions;
}

export function certificateStatus(changes: DeviceChanges, { devices, newId, retry = {} }: CertificateStatusDeps) {
  const { mutateOnce, policyOf } = changes;
  return {
    /** The outcome for every stored version holding the serial; empty when it belongs to no device. */
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
  };
}
