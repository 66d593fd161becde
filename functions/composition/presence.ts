/**
 * The composition root of presence (AWS IoT lifecycle events → connectivity): the connectivity store
 * over the table, the use case, and the read GET /v2/devices/{id} makes (none without presence events).
 */
import { presenceService, type PresenceService } from '../app/presence';
import type { ConnectivityStore } from '../app/ports';
import { connectivityStore } from '../adapters/dynamodb/connectivity-store';
import { processWide, systemClock, type TableContext, tableContext } from './context';

/** Without presence events there is no connectivity to read: no read is made. */
const NO_CONNECTIVITY: Pick<ConnectivityStore, 'get'> = { get: async () => undefined };

export function createConnectivityStore({ client, config }: TableContext): ConnectivityStore {
  return connectivityStore({ client, tableName: config.tableName, listShards: config.listShards });
}

export function createConnectivityReads(context: TableContext): Pick<ConnectivityStore, 'get'> {
  return context.config.presenceEnabled ? createConnectivityStore(context) : NO_CONNECTIVITY;
}

export const connectivityReads = processWide((s) => s.connectivity ?? NO_CONNECTIVITY, createConnectivityReads);

let current: PresenceService | undefined;

/** The process-wide presence use case (the presence function and the not-seen metric). */
export function presence(): PresenceService {
  current ??= presenceService({ store: createConnectivityStore(tableContext()), clock: systemClock });
  return current;
}

/** Test and local-service hook: replace the process-wide presence use case. */
export function setPresence(next: PresenceService | undefined): void {
  current = next;
}
