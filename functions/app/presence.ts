/**
 * Presence: AWS IoT lifecycle events → each device's `connectivity` (docs/events.md, Presence:
 * connectivity). A batch is reduced to the newest event per client; each is decided against what is
 * stored (domain/connectivity.ts: stale events dropped, at most one write per device per minute) and
 * written beside the device. A change that must wait for its minute is handed back as deferred: its
 * messages are delivered again later and decided anew.
 */
import {
  type Connectivity,
  decidePresence,
  deviceIdsOfClient,
  latestPerClient,
  type PresenceEvent,
} from '../domain/connectivity';
import type { Clock, ConnectivityStore, PresenceTarget } from './ports';

export interface PresenceReport {
  written: number;
  /** Client ids whose change waits for its minute (their messages are to be delivered again). */
  deferred: string[];
  /** Not newer than what is stored (a late or repeated event). */
  dropped: number;
  /** Client ids that name no device. */
  unknown: string[];
}

/** Device statuses in which a device is expected to connect: its identity is valid. */
export const IN_SERVICE_STATUSES = ['ACTIVE', 'RENEWAL_PENDING', 'EXPIRING_SOON'] as const;

export type PresenceService = ReturnType<typeof presenceService>;

export function presenceService({ store, clock }: { store: ConnectivityStore; clock: Clock }) {
  async function targetOf(clientId: string): Promise<PresenceTarget | undefined> {
    for (const id of deviceIdsOfClient(clientId)) {
      const target = await store.target(id);
      if (target) return target;
    }
    return undefined;
  }

  /** One client's newest event: 'written', 'deferred', 'dropped' or 'unknown'. */
  async function applyOne(event: PresenceEvent): Promise<'written' | 'deferred' | 'dropped' | 'unknown'> {
    const target = await targetOf(event.clientId);
    if (!target) return 'unknown';
    // Two tries: a write that lost to a concurrent one (another batch of the same client) decides again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const stored = await store.get(target.id);
      const decision = decidePresence(stored, event, clock.now().getTime());
      if (decision.kind === 'drop') return 'dropped';
      if (decision.kind === 'defer') return 'deferred';
      if (await store.put(target, decision.next, stored)) return 'written';
    }
    return 'deferred';
  }

  return {
    async apply(events: readonly PresenceEvent[]): Promise<PresenceReport> {
      const report: PresenceReport = { written: 0, deferred: [], dropped: 0, unknown: [] };
      await Promise.all(
        [...latestPerClient(events).values()].map(async (event) => {
          const outcome = await applyOne(event);
          if (outcome === 'written') report.written++;
          else if (outcome === 'dropped') report.dropped++;
          else if (outcome === 'deferred') report.deferred.push(event.clientId);
          else report.unknown.push(event.clientId);
        }),
      );
      return report;
    },

    /** Devices in service (at their last presence change) that disconnected and were not seen for `days` days. */
    async notSeenFor(days: number): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - days * 86_400_000).toISOString();
      return store.countNotSeenSince(cutoff, IN_SERVICE_STATUSES);
    },

    async get(deviceId: string): Promise<Connectivity | undefined> {
      return store.get(deviceId);
    },
  };
}
