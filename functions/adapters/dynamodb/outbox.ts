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
  return recordItem(event, { event: gzipSync(JSON.stringify(event)) }, ttlSeconds);
}

/** An outbox record keyed and expiring by its first event, with its body (`event` or `events`). */
function recordItem(
  first: OutboxEvent,
  body: { event: Buffer } | { events: Buffer },
  ttlSeconds: number,
): Record<string, unknown> {
  return {
    ...outboxKey(first.id),
    kind: OUTBOX_KIND,
    ...body,
    ttl: Math.floor(Date.parse(first.time) / 1000) + ttlSeconds,
  };
}

/**
 * The event JSON of a stored outbox record's `event` attribute: gzip bytes as written by
 * {@link outboxItem}, or JSON text (records written before compression). Throws on corrupt bytes.
 */
export function outboxEventJson(stored: Uint8Array | string): string {
  return typeof stored === 'string' ? stored : gunzipSync(stored).toString('utf8');
}

/**
 * Event JSON (before gzip) one outbox record carries for several changes committed together: well
 * under the item limit, and a stream batch of such records stays far below a Lambda payload.
 */
export const MAX_BATCH_EVENT_BYTES = 32 * 1024;

/**
 * The outbox of several changes written in one transaction (a server-side import's new devices): their
 * events in order, several to a record (`events`, a gzip-compressed JSON array), each record at most
 * {@link MAX_BATCH_EVENT_BYTES} of JSON unless one event alone is larger. One record rather than one a
 * device: fewer items written and streamed. The publisher expands a record into the same events, in
 * order, with the same ids (docs/data-model.md, The outbox).
 */
export function outboxBatch(maxBytes = MAX_BATCH_EVENT_BYTES) {
  const records: { first: OutboxEvent; json: string[]; bytes: number }[] = [];
  /** Whether an event of `size` bytes starts a new record after the open one (of `openBytes`, if any). */
  const opensRecord = (openBytes: number | undefined, size: number) =>
    openBytes === undefined || openBytes + size > maxBytes;
  /** The records after events of these sizes were added (what `add` would leave). */
  const simulate = (sizes: readonly number[]) => {
    let count = records.length;
    let bytes = records.at(-1)?.bytes;
    for (const size of sizes) {
      if (opensRecord(bytes, size)) {
        count++;
        bytes = size;
      } else bytes = bytes! + size;
    }
    return count;
  };
  return {
    /** The JSON of each event, measured once (pass it to `add`). */
    encode: (events: readonly OutboxEvent[]) => events.map((event) => ({ event, json: JSON.stringify(event) })),
    /** How many records the batch holds once these events are added. */
    recordsWith: (encoded: readonly { json: string }[]) => simulate(encoded.map((e) => e.json.length + 1)),
    add(encoded: readonly { event: OutboxEvent; json: string }[]) {
      for (const { event, json } of encoded) {
        const last = records.at(-1);
        const size = json.length + 1;
        if (!last || opensRecord(last.bytes, size)) records.push({ first: event, json: [json], bytes: size });
        else {
          last.json.push(json);
          last.bytes += size;
        }
      }
    },
    /** The Put actions: a record of one event is written as {@link outboxItem} writes it. */
    puts(
      tableName: string,
      ttlSeconds = OUTBOX_TTL_SECONDS,
    ): { Put: { TableName: string; Item: Record<string, unknown> } }[] {
      return records.map(({ first, json }) => ({
        Put: {
          TableName: tableName,
          Item: recordItem(
            first,
            json.length === 1 ? { event: gzipSync(json[0]!) } : { events: gzipSync(`[${json.join(',')}]`) },
            ttlSeconds,
          ),
        },
      }));
    },
  };
}

/** TransactWriteItems Put actions for the outbox records of one change. */
export function outboxPuts(tableName: string, events: readonly OutboxEvent[], ttlSeconds?: number) {
  return events.map((event) => ({ Put: { TableName: tableName, Item: outboxItem(event, ttlSeconds) } }));
}
