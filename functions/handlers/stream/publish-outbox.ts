/**
 * The outbox publisher: the table's stream (NEW_AND_OLD_IMAGES, filtered to INSERTs of outbox
 * records by the event source mapping) → CloudEvents on the stack's bus. Records that are neither
 * published nor dead-lettered are reported as batch item failures, so the stream delivers them again
 * and one bad record never blocks the shard (with bisection and bounded retries in the mapping).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { OutboxRecord } from '../../app/publish';
import { OUTBOX_KIND, outboxEventJson } from '../../adapters/dynamodb/outbox';
import type { OutboxEvent } from '../../domain/outbox';
import { publisher } from '../../composition/publisher-composition';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';

function isOutboxEvent(value: unknown): value is OutboxEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return ['id', 'type', 'subject', 'time'].every((k) => typeof e[k] === 'string' && e[k] !== '') && 'data' in e;
}

/** The outbox records of a stream batch, in stream order; a record whose event cannot be read is marked malformed. */
export function outboxRecordsOf(records: readonly DynamoDBRecord[]): OutboxRecord[] {
  const out: OutboxRecord[] = [];
  for (const record of records) {
    const image = record.dynamodb?.NewImage;
    // The mapping's filter passes only these; the local stream feed passes everything.
    if (record.eventName !== 'INSERT' || image?.kind?.S !== OUTBOX_KIND) continue;
    const position = record.dynamodb?.SequenceNumber ?? '';
    // A record of several changes committed together carries `events` (adapters/dynamodb/outbox.ts, outboxBatch).
    const attribute = image.events ?? image.event;
    // As stored (gzip bytes, base64-encoded in stream images, or JSON text), for a dead letter.
    const raw = attribute?.B ?? attribute?.S;
    try {
      const stored = attribute?.B !== undefined ? Buffer.from(attribute.B, 'base64') : (attribute?.S ?? '');
      const parsed: unknown = JSON.parse(outboxEventJson(stored));
      if (image.events === undefined)
        out.push(
          isOutboxEvent(parsed)
            ? { position, event: parsed }
            : { position, malformed: { message: 'the event attribute is not an outbox event', raw } },
        );
      else
        out.push(
          Array.isArray(parsed) && parsed.length > 0 && parsed.every(isOutboxEvent)
            ? { position, events: parsed }
            : { position, malformed: { message: 'the events attribute is not a list of outbox events', raw } },
        );
    } catch {
      out.push({
        position,
        malformed: { message: 'the event attribute is not (gzip-compressed) JSON', raw: raw ?? record.dynamodb?.Keys },
      });
    }
  }
  return out;
}

export async function handler(event: DynamoDBStreamEvent, context?: Partial<Context>): Promise<DynamoDBBatchResponse> {
  if (context?.functionName) logger.addContext(context as Context);
  const records = outboxRecordsOf(event.Records);
  if (records.length === 0) return { batchItemFailures: [] };
  const report = await publisher().publish(records);
  if (report.deadLettered > 0) metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, report.deadLettered);
  flushMetrics();
  const summary = { records: records.length, ...report, failed: report.failed.length };
  if (report.failed.length > 0 || report.deadLettered > 0) logger.warn('outbox batch published with failures', summary);
  else logger.debug('outbox batch published', summary);
  return { batchItemFailures: report.failed.map((position) => ({ itemIdentifier: position })) };
}
