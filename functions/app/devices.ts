/**
 * Device registry use cases (docs/api.md, Endpoints), one module per capability, gathered into the
 * service the handlers call: the record (device-registration.ts), the slots (device-slots.ts), the
 * CA's certificate reports (certificate-status.ts), the sweeper's re-evaluation (device-refresh.ts)
 * and the reads (device-reads.ts, here: history and statistics). All writes share device-changes.ts.
 */
import type { DeviceEvent } from '../domain/device';
import { ValidationError } from '../domain/errors';
import type { Filter } from '../domain/filters';
import { certificateStatus } from './certificate-status';
import { type DeviceChangeDeps, deviceChanges } from './device-changes';
import { deviceReads } from './device-reads';
import { deviceRefresh } from './device-refresh';
import { deviceRegistration } from './device-registration';
import { deviceSlots } from './device-slots';
import type { DeviceQueries, DeviceStats, DueIndex, Page } from './ports';

export interface DeviceServiceDeps extends DeviceChangeDeps {
  devices: DeviceChangeDeps['devices'] & DeviceQueries & Pick<DueIndex, 'setDue'>;
}

export type DeviceService = ReturnType<typeof deviceService>;

export function deviceService(deps: DeviceServiceDeps) {
  const { devices } = deps;
  const changes = deviceChanges(deps);
  const reads = deviceReads({ devices });
  return {
    ...deviceRegistration(changes, deps),
    ...deviceSlots(changes, deps),
    ...certificateStatus(changes, deps),
    ...deviceRefresh(changes, deps),

    get: changes.load,

    /** The devices of these ids that exist, by id (a server-side import's batch). */
    getMany: (ids: readonly string[]) => devices.getMany(ids),

    /** Judges the device's findings again with the current posture policy (the posture re-evaluation walk). */
    reassess: changes.reassess,

    /** The IoT sync brought AWS IoT to the device at `version`: `revoked-still-active-in-iot` resolves. */
    resolveIot: changes.resolveIot,

    list: reads.list,

    async events(id: string, pageSize: number, bookmark?: string): Promise<Page<DeviceEvent>> {
      await changes.load(id);
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

export type { CertificateStatusResult } from './certificate-status';
