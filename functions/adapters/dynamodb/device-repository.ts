/**
 * DeviceRepository on the single table: every device capability, each in its own module over the
 * shared table context (device-table.ts): device-store.ts (a device, its slot versions),
 * device-queries.ts (lists, events, statistics, insights), due-index.ts (the due index, a DMS's
 * devices); index-backfill.ts keeps the indexed keys whole.
 */
import type { DeviceRepository } from '../../app/ports';
import { deviceQueries, insightQueries } from './device-queries';
import { deviceStore, slotVersionStore } from './device-store';
import { type DeviceRepositoryOptions, deviceTable } from './device-table';
import { dmsDevices, dueIndex } from './due-index';

export type { DeviceRepositoryOptions } from './device-table';

export function deviceRepository(options: DeviceRepositoryOptions): DeviceRepository & { readonly itemsRead: number } {
  const table = deviceTable(options);
  const store = deviceStore(table);
  return {
    ...store,
    ...slotVersionStore(table),
    ...deviceQueries(table, store),
    ...insightQueries(table),
    ...dueIndex(table),
    ...dmsDevices(table),
    backfillIndexes: (deadline, pageSize) => table.indexes.backfill(deadline, pageSize),
    get itemsRead() {
      return table.itemsRead;
    },
  };
}
