/**
 * Device connectivity from AWS IoT's presence events (docs/events.md, Presence: connectivity), pure.
 *
 * A device's `connectivity` is `{connected, since, last_seen}`: whether its last presence event was a
 * connect, when that state began, and the time of its latest presence event. It is stored beside the
 * device, never in it (no version bump, no event), and at most once per device per minute: an event
 * newer than what is stored that arrives within a minute of the last write is deferred until the minute
 * is over (then decided again: by then a newer event may have made it stale), so a flapping device costs
 * one write a minute, and the state it ends in is always stored.
 */

/** The least time between two stored changes of one device's connectivity. */
export const CONNECTIVITY_WRITE_INTERVAL_MS = 60_000;

export interface Connectivity {
  connected: boolean;
  /** ISO time the current state began (the event that set it). */
  since: string;
  /** ISO time of the latest presence event applied. */
  last_seen: string;
}

/** What is stored: the connectivity plus the order and pace stamps. */
export interface StoredConnectivity extends Connectivity {
  /** Epoch ms of the latest presence event applied (events older than it are stale). */
  event_ms: number;
  /** Epoch ms of the write (the once-a-minute rule). */
  written_ms: number;
}

/** One AWS IoT lifecycle event (`$aws/events/presence/connected|disconnected/<clientId>`). */
export interface PresenceEvent {
  clientId: string;
  eventType: 'connected' | 'disconnected';
  /** Epoch ms, as AWS IoT stamps it. */
  timestamp: number;
}

export type PresenceDecision =
  | { kind: 'write'; next: StoredConnectivity }
  /** Within the minute of the last write: decide again at `at` (epoch ms) or later. */
  | { kind: 'defer'; at: number }
  /** Not newer than what is stored. */
  | { kind: 'drop'; reason: 'stale' };

/** The connectivity after `event`, and whether it is written now, later, or not at all. */
export function decidePresence(
  stored: StoredConnectivity | undefined,
  event: PresenceEvent,
  now: number,
): PresenceDecision {
  if (stored && event.timestamp <= stored.event_ms) return { kind: 'drop', reason: 'stale' };
  const connected = event.eventType === 'connected';
  const at = new Date(event.timestamp).toISOString();
  const next: StoredConnectivity = {
    connected,
    since: stored && stored.connected === connected ? stored.since : at,
    last_seen: at,
    event_ms: event.timestamp,
    written_ms: now,
  };
  if (!stored) return { kind: 'write', next };
  const free = stored.written_ms + CONNECTIVITY_WRITE_INTERVAL_MS;
  return now >= free ? { kind: 'write', next } : { kind: 'defer', at: free };
}

/** The newest event per client of a batch: one decision per device, in event order. */
export function latestPerClient(events: readonly PresenceEvent[]): Map<string, PresenceEvent> {
  const latest = new Map<string, PresenceEvent>();
  for (const e of events) {
    const seen = latest.get(e.clientId);
    if (!seen || e.timestamp > seen.timestamp) latest.set(e.clientId, e);
  }
  return latest;
}

/** The API view: the stamps stay inside. */
export function connectivityView({ connected, since, last_seen }: Connectivity): Connectivity {
  return { connected, since, last_seen };
}

/** A presence event as AWS IoT publishes it, or undefined when the body is not one. */
export function presenceEventOf(body: unknown): PresenceEvent | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { clientId, eventType, timestamp } = body as Record<string, unknown>;
  if (typeof clientId !== 'string' || clientId.length === 0) return undefined;
  if (eventType !== 'connected' && eventType !== 'disconnected') return undefined;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return undefined;
  return { clientId, eventType, timestamp };
}

/**
 * The device ids a client id may name: the id itself, and, for a thing name (the sync maps `.` to `_`),
 * the id with `_` read as `.` (tried second: an id may hold `_` itself).
 */
export function deviceIdsOfClient(clientId: string): string[] {
  const dotted = clientId.replace(/_/g, '.');
  return dotted === clientId ? [clientId] : [clientId, dotted];
}
