/** The sweeper's dependencies: the sweep index over the table, the policies and the device use cases. */
import type { SweepDeps } from '../app/sweep';
import type { DeviceRepository, SweepIndex } from '../app/ports';
import { sweepIndex as dynamoSweepIndex } from '../adapters/dynamodb/sweep-index';
import { processWide, systemClock, type TableContext } from './context';
import { devices } from './devices';
import { deviceRepository, policyRepository, postureRepository } from './repositories';

export function createSweepIndex({ client, config }: TableContext, repository: DeviceRepository): SweepIndex {
  return dynamoSweepIndex({ repository, client, tableName: config.tableName });
}

export const sweepIndex = processWide(
  (s) => s.sweepIndex,
  (context) => createSweepIndex(context, deviceRepository()),
);

export function sweepDeps(): SweepDeps {
  return {
    index: sweepIndex(),
    policies: policyRepository(),
    service: devices(),
    clock: systemClock,
    posture: postureRepository(),
  };
}
