/** Outbox records: written in the same transaction as the change they describe (CONTRACT §6). */
import type { OutboxEvent } from '../../domain/outbox';
import { outboxKey } from './keys';

/** Seconds an outbox record is kept before TTL deletes it (the stream has it within seconds). */
export const OUTBOX_TTL_SECONDS = 7 * 24 * 3600;

export const OUTBOX_KIND = 'outbox';

/** The item of one outbox record. */
export function outboxItem(event: OutboxEvent, ttlSeconds = OUTBOX_TTL_SECONDS): Record<string, unknown> {
  return { ...outboxKey(event.id), kind: OUTBOX_KIND, event: JSON.stringify(event), ttl: Math.floor(Date.parse(event.time) / 1000) + ttlSeconds };
}

/** TransactWriteItems Put actions for the outbox records of one change. */
export function outboxPuts(tableName: string, events: readonly OutboxEvent[], ttlSeconds?: number) {
  return events.map((event) => ({ Put: { TableName: tableName, Item: outboxItem(event, ttlSeconds) } }));
}
