/**
 * Time-driven re-evaluation of one device (the sweeper): persists status changes, or only moves the
 * device in the due index. Racing sweepers cannot record a transition twice: the loser's
 * conditional write fails, it re-reads, and finds nothing left to change.
 */
import type { Device } from '../domain/device';
import { VersionConflictError } from '../domain/errors';
import { type DmsPolicy, policyWindows } from '../domain/policy';
import { refreshSlots } from '../domain/slots';
import type { DeviceChanges } from './device-changes';
import type { Clock, DeviceStore, DueIndex, IdGenerator } from './ports';
import { retryOnConflict, type RetryOptions } from './retry';

interface DeviceRefreshDeps {
  devices: Pick<DeviceStore, 'get'> & Pick<DueIndex, 'setDue'>;
  clock: Clock;
  newId: IdGenerator;
  retry?: RetryOptions;
}

export function deviceRefresh(changes: DeviceChanges, { devices, clock, newId, retry = {} }: DeviceRefreshDeps) {
  const { save, policyOf, policiesOf } = changes;
  return {
    /**
     * Reads, in one call, the policies of the devices' DMSs that `policyCache` lacks: a sweep page's
     * devices belong to many DMSs, and a read per DMS would cost more calls than the transitions.
     */
    async cachePolicies(devices: readonly Device[], policyCache: Map<string, DmsPolicy>): Promise<void> {
      const missing = [...new Set(devices.map((d) => d.dms_owner))].filter((dms) => !policyCache.has(dms));
      if (missing.length < 2) return;
      for (const [dms, policy] of await policiesOf(missing)) policyCache.set(dms, policy);
    },

    /** Whether the device's status changed; `policyCache` spares a policy read per device of a run. */
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
  };
}
