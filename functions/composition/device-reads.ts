/** Device list and statistics reads (group members, the Lamassu lists): process-wide, without the write paths. */
import { deviceReads as deviceReadsOver, type DeviceReads } from '../app/device-reads';
import { processWide } from './context';
import { deviceRepository } from './repositories';

export const deviceReads = processWide<DeviceReads>(
  (s) => s.devices,
  () => deviceReadsOver({ devices: deviceRepository() }),
);
