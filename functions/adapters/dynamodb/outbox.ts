/** Outbox records: written in the same transaction as the change they describe (docs/api.md, Events on EventBridge). */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { OutboxEvent } from '../../domain/outbox';
import { outboxKey } from './keys';

/** Seconds an outbox record is kept before TTL deletes it (the stream has it within seconds). */
export const OUTBOX_TTL_SECONDS = 7 * 24 * 3600;

export const OUTBOX_KIND = 'outbox';

/**
 * The item of one outbox record. The event JSON is stored gzip-compressed (a binary attribute): the
 * record is billed per KB, twice in a transaction, and a `device.update` carries the changed fields
 * twice (previous and updated), which compresses well.
 */
export function outboxItem(event: OutboxEvent, ttlSeconds = OUTBOX_TTL_SECONDS): Record<string, unknown> {
  return {
    ...outboxKey(event.id),
    kind: OUTBOX_KIND,
    event: gzipSync(JSON.stringify(event)),
    ttl: Math.floor(Date.parse(event.time) / 1000) + ttlSeconds,
  };
}

/**
 * The event JSON of a stored outbox record's `event` attribute: gzip bytes as written by
 * {@link outboxItem}, or JSON text (records written before compression). Throws on corrupt bytes.
 */
export function outboxEventJson(stored: Uint8Array | string): string {
  return typeof stored === 'string' ? stored : gunzipSync(stored).toString('utf8');
}

/** TransactWriteItems Put actions for the outbox records of one change. */
export function outboxPuts(tableName: string, events: readonly OutboxEvent[], ttlSeconds?: number) {
  return events.map((event) => ({ Put: { TableName: tableName, Item: outboxItem(event, ttlSeconds) } }));
}
