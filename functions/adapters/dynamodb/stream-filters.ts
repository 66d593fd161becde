/**
 * The filter criteria of the table stream's two consumers (Lambda event filtering: EventBridge patterns
 * over the stream record). The stack's event source mappings (lib/constructs/counters.ts, events.ts)
 * and the local service's stream feeds (local/events.ts) use these same patterns, so a record reaches
 * the outbox publisher or the counter applier locally exactly when it does deployed.
 */
import { CONNECTIVITY_KIND } from './connectivity-store';
import { OUTBOX_KIND } from './outbox';

/** Device items and their connectivity items (presence), created, changed or deleted (a purge). */
const COUNTED_KINDS = ['device', CONNECTIVITY_KIND];

/** The counter applier's records: every other item changes no counter. */
export const COUNTER_STREAM_FILTERS: readonly Record<string, unknown>[] = [
  { dynamodb: { NewImage: { kind: { S: COUNTED_KINDS } } } },
  { dynamodb: { OldImage: { kind: { S: COUNTED_KINDS } } } },
];

/** The outbox publisher's records: new outbox records only (TTL deletions and every other item are left out). */
export const OUTBOX_STREAM_FILTERS: readonly Record<string, unknown>[] = [
  { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: [OUTBOX_KIND] } } } },
];
