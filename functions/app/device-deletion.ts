/**
 * Hard delete of a decommissioned device (the Lamassu edge's `DELETE /devices/{id}`): the device
 * leaves the registry and the statistics, one `device.delete` event is published, and its history
 * stays for audit (see DevicePurge).
 */
import type { Device } from '../domain/device';
import {
  ContentionError,
  DeviceNotDecommissionedError,
  DeviceNotFoundError,
  VersionConflictError,
} from '../domain/errors';
import { deviceDeleted } from '../domain/outbox';
import type { Clock, DevicePurge, DeviceStore, IdGenerator } from './ports';

export interface DeviceDeletionDeps {
  devices: Pick<DeviceStore, 'get'>;
  purge: DevicePurge;
  clock: Clock;
  newId: IdGenerator;
  maxVersionRetries?: number;
}

export type DeviceDeletion = ReturnType<typeof deviceDeletion>;

export function deviceDeletion({ devices, purge, clock, newId, maxVersionRetries = 5 }: DeviceDeletionDeps) {
  return {
    /** Deletes a DECOMMISSIONED device; DeviceNotFoundError, or DeviceNotDecommissionedError (422) otherwise. */
    async remove(id: string): Promise<Device> {
      for (let attempt = 0; attempt <= maxVersionRetries; attempt++) {
        const device = await devices.get(id);
        if (!device) throw new DeviceNotFoundError(id);
        if (device.status !== 'DECOMMISSIONED') throw new DeviceNotDecommissionedError(id, device.status);
        try {
          await purge.purge(device, [deviceDeleted(newId(), device, clock.now().toISOString())]);
          return device;
        } catch (error) {
          // A decommissioned device still changes (e.g. a CA status report on an old version): read again.
          if (!(error instanceof VersionConflictError)) throw error;
        }
      }
      throw new ContentionError(`device ${id} is being changed concurrently; try again`);
    },
  };
}
