/** Presence decisions (domain/connectivity.ts) and the presence function's batch answer. */
import type { SQSEvent } from 'aws-lambda';
import { presenceService } from '../../../functions/app/presence';
import type { ConnectivityStore } from '../../../functions/app/ports';
import { setPresence } from '../../../functions/composition/presence';
import {
  CONNECTIVITY_WRITE_INTERVAL_MS,
  decidePresence,
  deviceIdsOfClient,
  presenceEventOf,
  type StoredConnectivity,
} from '../../../functions/domain/connectivity';
import { handler } from '../../../functions/handlers/events/presence';

const T = Date.parse('2026-03-15T10:00:00.000Z');
const stored: StoredConnectivity = {
  connected: true,
  since: new Date(T - 3_600_000).toISOString(),
  last_seen: new Date(T).toISOString(),
  event_ms: T,
  written_ms: T,
};

describe('decidePresence', () => {
  it('writes the first event, drops what is not newer, and writes at most once a minute', () => {
    expect(decidePresence(undefined, { clientId: 'a', eventType: 'disconnected', timestamp: T }, T)).toEqual({
      kind: 'write',
      next: { connected: false, since: stored.last_seen, last_seen: stored.last_seen, event_ms: T, written_ms: T },
    });
    expect(decidePresence(stored, { clientId: 'a', eventType: 'disconnected', timestamp: T }, T + 90_000)).toEqual({
      kind: 'drop',
      reason: 'stale',
    });
    const later = { clientId: 'a', eventType: 'connected' as const, timestamp: T + 1000 };
    expect(decidePresence(stored, later, T + 1000)).toEqual({ kind: 'defer', at: T + CONNECTIVITY_WRITE_INTERVAL_MS });
    // The same state a minute on: `since` stays, `last_seen` moves.
    const written = decidePresence(stored, later, T + CONNECTIVITY_WRITE_INTERVAL_MS);
    expect(written).toMatchObject({ kind: 'write', next: { connected: true, since: stored.since } });
    expect(written.kind === 'write' && written.next.last_seen).toBe(new Date(T + 1000).toISOString());
  });

  it('reads AWS IoT lifecycle events, and the device ids a client id may name', () => {
    expect(presenceEventOf({ clientId: 'c', eventType: 'connected', timestamp: T, versionNumber: 3 })).toEqual({
      clientId: 'c',
      eventType: 'connected',
      timestamp: T,
    });
    expect(presenceEventOf({ clientId: 'c', eventType: 'subscribed', timestamp: T })).toBeUndefined();
    expect(presenceEventOf({ clientId: '', eventType: 'connected', timestamp: T })).toBeUndefined();
    expect(presenceEventOf({ clientId: 'c', eventType: 'connected', timestamp: '1' })).toBeUndefined();
    expect(deviceIdsOfClient('cam_01')).toEqual(['cam_01', 'cam.01']);
    expect(deviceIdsOfClient('cam-01')).toEqual(['cam-01']);
  });
});

describe('the presence function', () => {
  afterEach(() => setPresence(undefined));

  it('fails back the messages of a deferred device and unreadable ones, and acknowledges the rest', async () => {
    const rows = new Map<string, StoredConnectivity>([['busy', { ...stored, written_ms: T }]]);
    const store: ConnectivityStore = {
      get: async (id) => rows.get(id),
      target: async (id) =>
        id === 'ghost' ? undefined : { id, created: `2026-01-01T00:00:00.000Z#${id}`, status: 'ACTIVE' },
      put: async (target, next) => {
        rows.set(target.id, next);
        return true;
      },
      countNotSeenSince: async () => 0,
    };
    setPresence(presenceService({ store, clock: { now: () => new Date(T + 1000) } }));
    const record = (messageId: string, body: string) => ({ messageId, body }) as SQSEvent['Records'][number];
    const event = (clientId: string, eventType: string, at: number) =>
      JSON.stringify({ clientId, eventType, timestamp: at });
    const out = await handler({
      Records: [
        record('m1', event('fresh', 'connected', T)),
        record('m2', event('busy', 'disconnected', T + 500)),
        record('m3', event('busy', 'connected', T + 900)),
        record('m4', '{not json'),
        record('m5', event('ghost', 'connected', T)),
      ],
    });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m2', 'm3', 'm4']);
    expect(rows.get('fresh')).toMatchObject({ connected: true, event_ms: T });
    expect(rows.get('busy')).toEqual(stored);
  });
});
