/**
 * Fleet insights use cases (docs/api.md, Fleet insights): the value distribution of an indexed metadata key, the
 * expiry forecast, the certificate inventory, connectivity counts.
 */
import { ValidationError } from '../domain/errors';
import { type Forecast, type ForecastQuery, foldForecast } from '../domain/insights';
import { inventoryAnswer, type InventoryQuery } from '../domain/inventory';
import type { Clock, InsightQueries, StatusCounts } from './ports';

export const DEFAULT_VALUE_LIMIT = 100;
export const MAX_VALUE_LIMIT = 1000;

export interface MetadataDistribution {
  key: string;
  values: ({ value: string } & StatusCounts)[];
  other: number;
  /** The counters include every change committed before this instant (ISO). */
  consistent_as_of: string;
}

export function insightsService({ devices, clock }: { devices: InsightQueries; clock: Clock }) {
  return {
    /**
     * The `limit` most common values of an indexed key (ties by value text), and how many devices hold any other value.
     */
    async metadataDistribution(key: string, limit: number = DEFAULT_VALUE_LIMIT): Promise<MetadataDistribution> {
      if (!devices.indexedMetadataKeys.includes(key))
        throw new ValidationError(`metadata key '${key}' is not indexed`, [
          {
            field: 'key',
            problem:
              `not among the indexed ` +
              `metadata keys (${devices.indexedMetadataKeys.join(', ') || 'none configured'})`,
          },
        ]);
      const [top, consistent_as_of] = await Promise.all([
        devices.metadataValues(key, limit),
        devices.countersConsistentAsOf(),
      ]);
      return {
        key,
        values: top.values.map((v) => ({ value: v.value, ...v.stats })),
        other: top.other,
        consistent_as_of,
      };
    },

    /** The certificates in service of a slot counted by key, signature, issuer or validity (constant cost). */
    async certificateInventory(query: InventoryQuery) {
      const [counts, consistent_as_of] = await Promise.all([
        devices.certificateInventory(query.slot, query.by),
        devices.countersConsistentAsOf(),
      ]);
      return { ...inventoryAnswer(query, counts), consistent_as_of };
    },

    /** Devices connected and disconnected at their last AWS IoT presence event (constant cost). */
    async connectivity(): Promise<{ connected: number; disconnected: number; consistent_as_of: string }> {
      const [counts, consistent_as_of] = await Promise.all([
        devices.connectivityCounts(),
        devices.countersConsistentAsOf(),
      ]);
      return { ...counts, consistent_as_of };
    },

    async expirations(query: ForecastQuery): Promise<Forecast & { consistent_as_of: string }> {
      const now = clock.now();
      const lastDay = new Date(
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + query.horizonDays * 86_400_000,
      )
        .toISOString()
        .slice(0, 10);
      const [days, consistent_as_of] = await Promise.all([
        devices.expirationsByDay(query.dms, lastDay),
        devices.countersConsistentAsOf(),
      ]);
      return { ...foldForecast(days, query, now), consistent_as_of };
    },
  };
}

export type InsightsService = ReturnType<typeof insightsService>;
