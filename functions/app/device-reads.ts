/**
 * Reads of the device list and its statistics: what groups read their members through and what the
 * Lamassu lists call. Apart from the device use cases, so that a function that only reads does not
 * bundle the write paths (slots, PATCH rules, request schemas).
 */
import { statusesAllowed, type Filter } from '../domain/filters';
import type { Device } from '../domain/device';
import { chooseEntryPoint, type DeviceListQuery } from '../domain/query';
import type { DeviceQueries, DeviceStats, Page } from './ports';

export type DeviceReads = ReturnType<typeof deviceReads>;

export function deviceReads({ devices }: { devices: DeviceQueries }) {
  return {
    list(query: DeviceListQuery): Promise<Page<Device>> {
      return devices.list(query);
    },

    /**
     * Statistics of the devices matching `filters`, `status` filters allowed (group statistics; the
     * stats route keeps refusing them). A status filter only masks the distribution of the other
     * filters, so the counters still serve `dms_owner[eq]` or an indexed metadata value alone; the status index is
     * used instead
     * when it is the only indexed entry point.
     */
    async statsOfMatching(filters: readonly Filter[]): Promise<DeviceStats> {
      const rest = filters.filter((f) => f.kind !== 'status');
      if (
        rest.length === filters.length ||
        (rest.length > 0 && chooseEntryPoint(rest, devices.indexedMetadataKeys, true).kind === 'ALL')
      )
        return devices.stats(filters);
      const allowed = new Set<string>(statusesAllowed(filters));
      const { status_distribution, consistent_as_of } = await devices.stats(rest);
      const distribution = Object.fromEntries(
        Object.entries(status_distribution).map(([s, n]) => [s, allowed.has(s) ? n : 0]),
      ) as DeviceStats['status_distribution'];
      const total = Object.values(distribution).reduce((a, b) => a + b, 0);
      return { total, status_distribution: distribution, consistent_as_of };
    },
  };
}
