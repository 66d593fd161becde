/**
 * The connectivity store in memory (presence events): the same contract as the DynamoDB adapter
 * (functions/adapters/dynamodb/connectivity-store.ts), kept in the shared state so the in-memory device
 * list honours the `connected` filter and the statistics count it.
 */
import type { ConnectivityStore } from '../../../functions/app/ports';
import type { MemoryState } from './state';

export function memoryConnectivityStore(state: MemoryState): ConnectivityStore {
  return {
    async get(deviceId) {
      const stored = state.connectivity.get(deviceId);
      if (!stored) return undefined;
      const { status: _status, ...connectivity } = stored;
      return connectivity;
    },

    async target(deviceId) {
      const stored = state.devices.get(deviceId);
      if (!stored) return undefined;
      const device = JSON.parse(stored.doc) as { creation_timestamp: string; status: string };
      return { id: deviceId, created: `${device.creation_timestamp}#${deviceId}`, status: device.status };
    },

    async put(target, next, previous) {
      const stored = state.connectivity.get(target.id);
      // The adapter's condition: unchanged since `previous` was read (or still absent).
      if (previous ? stored?.written_ms !== previous.written_ms : stored !== undefined) return false;
      state.connectivity.set(target.id, { ...next, status: target.status });
      return true;
    },

    async countNotSeenSince(cutoff, statuses) {
      let count = 0;
      for (const c of state.connectivity.values())
        if (!c.connected && c.last_seen < cutoff && statuses.includes(c.status)) count++;
      return count;
    },
  };
}
