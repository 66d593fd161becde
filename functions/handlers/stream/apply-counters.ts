/**
 * The counter applier: the table's stream (NEW_AND_OLD_IMAGES, filtered to device items by the
 * event source mapping) → statistics, metadata value and forecast counters
 * (docs/adr/0005-counters-from-the-stream.md). Records from the first one not applied are reported
 * as batch item failures, so the stream delivers them again; the processed markers make a
 * redelivered record count once.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { TableChange } from '../../adapters/dynamodb/counter-applier';
import { applier } from '../../composition/counters-composition';
import { logger } from '../../runtime/observability';

type Image = Record<string, AttributeValue>;

/** The table changes of a stream batch, in stream order. */
export function tableChangesOf(records: readonly DynamoDBRecord[]): TableChange[] {
  return records.map((record) => ({
    sequenceNumber: record.dynamodb?.SequenceNumber ?? '',
    committedAt: record.dynamodb?.ApproximateCreationDateTime ?? 0,
    ...(record.dynamodb?.OldImage ? { oldImage: record.dynamodb.OldImage as Image } : {}),
    ...(record.dynamodb?.NewImage ? { newImage: record.dynamodb.NewImage as Image } : {}),
  }));
}

export async function handler(event: DynamoDBStreamEvent, context?: Partial<Context>): Promise<DynamoDBBatchResponse> {
  if (context?.functionName) logger.addContext(context as Context);
  const changes = tableChangesOf(event.Records);
  const report = await applier().apply(changes);
  const { error, ...summary } = report;
  if (report.failedFrom === undefined) {
    logger.debug('counters applied', { records: changes.length, ...summary });
    return { batchItemFailures: [] };
  }
  logger.warn('counters applied in part; the rest is delivered again', {
    records: changes.length,
    ...summary,
    error: error instanceof Error ? error.message : String(error),
  });
  const from = changes.findIndex((c) => c.sequenceNumber === report.failedFrom);
  return { batchItemFailures: changes.slice(Math.max(0, from)).map((c) => ({ itemIdentifier: c.sequenceNumber })) };
}
