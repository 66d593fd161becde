/** What the IoT sync last did per device, read by GET /v2/devices/{id} (`iot`): process-wide. */
import type { IotSyncStateStore } from '../app/ports';
import { iotSyncStateStore } from '../adapters/dynamodb/iot-sync-state';
import { processWide, type TableContext } from './context';

/** Without the IoT sync there is no state to read: no read is made. */
const NO_STATES: IotSyncStateStore = { get: async () => undefined, put: async () => undefined };

export function createIotStates({ client, config }: TableContext): IotSyncStateStore {
  return config.iotSyncEnabled ? iotSyncStateStore({ client, tableName: config.tableName }) : NO_STATES;
}

export const iotStates = processWide((s) => s.iotStates, createIotStates);
