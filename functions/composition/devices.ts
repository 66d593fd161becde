/** The device use cases (register, read, list, patch, slots, statistics): process-wide, for the device routes. */
import { randomUUID } from 'node:crypto';
import { deviceService, type DeviceService } from '../app/devices';
import type { DeviceRepository, PolicyRepository, PostureRepository } from '../app/ports';
import { metricsTelemetry, processWide, type TableContext } from './context';
import { deviceRepository, policyRepository, postureRepository } from './repositories';

export function createDevices(
  { config, clock, retry }: TableContext,
  repository: DeviceRepository,
  policies: PolicyRepository,
  posture: PostureRepository,
): DeviceService {
  return deviceService({
    devices: repository,
    policies,
    clock,
    newId: randomUUID,
    defaults: config.renewalDefaults,
    telemetry: metricsTelemetry,
    retry,
    deviceSnapshots: config.lamassuEvents,
    posture,
    iotSync: config.iotSyncEnabled,
  });
}

export const devices = processWide(
  (s) => s.devices,
  (context) => createDevices(context, deviceRepository(), policyRepository(), postureRepository()),
);
