/** Hard delete of decommissioned devices (the Lamassu edge): process-wide, for its delete route. */
import { randomUUID } from 'node:crypto';
import { deviceDeletion, type DeviceDeletion } from '../app/device-deletion';
import type { DeviceRepository } from '../app/ports';
import { devicePurge } from '../adapters/dynamodb/device-purge';
import { processWide, type TableContext } from './context';
import { deviceRepository } from './repositories';

export function createDeletion({ client, config, clock }: TableContext, repository: DeviceRepository): DeviceDeletion {
  const purge = devicePurge({ client, tableName: config.tableName, statsShards: config.statsShards });
  return deviceDeletion({ devices: repository, purge, clock, newId: randomUUID });
}

export const deletion = processWide(
  (s) => s.deletion,
  (context) => createDeletion(context, deviceRepository()),
);
