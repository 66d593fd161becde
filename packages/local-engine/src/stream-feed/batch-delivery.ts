/**
 * One batch through the handler, as an event source mapping with ReportBatchItemFailures runs it:
 * the records before the first failure are done, the rest is retried up to `maxRetries` times, then
 * logged and dropped. This is the feed's only retry layer.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface BatchDelivery {
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  maxRetries: number;
  logger: Pick<Console, 'error'>;
  tableName: string;
  /** Records up to this sequence number are settled (handled or dropped): move the position. */
  advance(sequenceNumber: string): Promise<void>;
  /** The feed is stopping: leave the failed records in the stream. */
  stopped(): boolean;
}

/** Delivers one batch (with its retries); returns when its records are settled, or the feed stopped. */
export async function deliverBatch(delivery: BatchDelivery, records: DynamoDBRecord[]): Promise<void> {
  let batch = records;
  for (let attempt = 0; ; attempt++) {
    const failedFrom = await invoke(delivery.handler, batch);
    const succeeded = failedFrom ?? batch.length;
    if (succeeded > 0) await delivery.advance(sequenceOf(batch[succeeded - 1]!));
    if (failedFrom === undefined) return;
    batch = batch.slice(failedFrom);
    if (delivery.stopped()) return; // not settled: delivered again by the next feed of this consumer
    if (attempt >= delivery.maxRetries) {
      delivery.logger.error(
        `[stream-feed] ${delivery.tableName}: dropping ${batch.length} record(s) after ${attempt + 1} failed ` +
          `attempt(s), sequence numbers ${sequenceOf(batch[0]!)}..${sequenceOf(batch.at(-1)!)}`,
      );
      await delivery.advance(sequenceOf(batch.at(-1)!));
      return;
    }
    // Retry at once, but after the event loop has had a turn (a handler that fails without I/O
    // would otherwise starve it).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const sequenceOf = (record: DynamoDBRecord): string => record.dynamodb!.SequenceNumber!;

/** Calls the handler; returns the index of the first failed record, or undefined if all succeeded. */
async function invoke(handler: BatchDelivery['handler'], batch: DynamoDBRecord[]): Promise<number | undefined> {
  let response: DynamoDBBatchResponse | void;
  try {
    response = await handler({ Records: batch });
  } catch {
    return 0;
  }
  const failures = response?.batchItemFailures;
  if (!failures || failures.length === 0) return undefined;
  let first = batch.length;
  for (const failure of failures) {
    const index = batch.findIndex(
      (record) => failure?.itemIdentifier && record.dynamodb?.SequenceNumber === failure.itemIdentifier,
    );
    if (index < 0) return 0; // missing or unknown identifier: the whole batch failed
    first = Math.min(first, index);
  }
  return first;
}
