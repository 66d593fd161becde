/**
 * Stream feed: delivers an engine's change records of one table to a Lambda-style handler, as a
 * Lambda event source mapping on a DynamoDB stream (StreamViewType NEW_AND_OLD_IMAGES, with
 * ReportBatchItemFailures) does: in commit order, in batches, one batch at a time. Records are read
 * from the engine's stored stream, so a named consumer resumes where it stopped, even after a crash.
 *
 * This module reads the stream and wires the parts in ./stream-feed/: the Lambda record shape, one
 * batch's delivery and retries, the position (and checkpoint), and the callers waiting in drain().
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Engine } from './index';
import { type BatchDelivery, deliverBatch } from './stream-feed/batch-delivery';
import { DrainWaiters } from './stream-feed/drain-waiters';
import { checkPattern, type EventPattern, matchesPattern } from './stream-feed/event-pattern';
import { recordSource, toLambdaRecord } from './stream-feed/lambda-record';
import { FeedPosition } from './stream-feed/position';

export interface StreamFeedOptions {
  engine: Engine;
  tableName: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** Default 100. */
  batchSize?: number;
  /**
   * Retries of a failed batch / the failed tail reported via batchItemFailures, default 3 (then the
   * records are logged and dropped, like an event source mapping without a destination).
   */
  maxRetries?: number;
  /** Where dropped batches are reported; default `console`. */
  logger?: Pick<Console, 'error'>;
  /**
   * A durable consumer name: its position is saved in the engine's store after each handled batch,
   * and a feed started again with that name (after a restart or a crash) resumes after it, from the
   * oldest kept record the first time. Without one, delivery starts with the records committed after
   * the feed starts and the position lives in memory.
   */
  consumer?: string;
  /**
   * The mapping's filter criteria (Lambda event filtering: EventBridge patterns over the record as
   * the function would receive it): a record is delivered when it matches one of them; the others are
   * passed over, never delivered, and the position moves past them. None: every record.
   */
  filters?: readonly EventPattern[];
}

export interface StreamFeed {
  /** Resolves when every record committed so far has been delivered (or dropped). */
  drain(): Promise<void>;
  /**
   * Stops delivering; resolves once the batch being delivered (if any) is done. Undelivered records
   * stay in the stream.
   */
  stop(): Promise<void>;
}

/**
 * Starts delivering the change records of `tableName` to `handler`, read from the engine's stored
 * stream in sequence order.
 *
 * A batch fails when the handler throws (or rejects), or returns `batchItemFailures`; delivery
 * then resumes from the first failed record (the lowest failed sequence number; an identifier that
 * is empty or not in the batch fails the whole batch), up to `maxRetries` times, after which the
 * failed records are logged and dropped. The position (and a consumer's saved checkpoint) only moves
 * past records that were handled or dropped: delivery is at least once.
 *
 * @returns controls to wait for delivery ({@link StreamFeed.drain}) and to stop.
 */
export function startStreamFeed(options: StreamFeedOptions): StreamFeed {
  const { engine, tableName, handler, consumer } = options;
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 3;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new RangeError(`batchSize must be an integer from 1 to 10000, got ${batchSize}`);
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError(`maxRetries must be a non-negative integer, got ${maxRetries}`);

  const logger = options.logger ?? console;
  const filters = options.filters && options.filters.length > 0 ? options.filters : undefined;
  for (const pattern of filters ?? []) checkPattern(pattern);
  const stream = engine.stream;
  const source = recordSource(tableName);
  const position = new FeedPosition(stream, consumer);
  const waiters = new DrainWaiters();
  let stopped = false;
  let wanted = true; // records may be waiting
  let running: Promise<void> | undefined;
  const delivery: BatchDelivery = {
    handler,
    maxRetries,
    logger,
    tableName,
    advance: (sequenceNumber) => position.advance(sequenceNumber),
    stopped: () => stopped,
  };

  /** Reads and delivers batches until caught up with everything committed. */
  const catchUp = async () => {
    for (;;) {
      const through = stream.watermark();
      const records = await stream.read(tableName, position.current, batchSize);
      if (stopped) return;
      const passed = filters
        ? records.filter((r) => {
            const view = toLambdaRecord(r, source, { sized: false }) as unknown as Record<string, unknown>;
            return filters.some((pattern) => matchesPattern(pattern, view));
          })
        : records;
      if (passed.length > 0)
        await deliverBatch(
          delivery,
          passed.map((r) => toLambdaRecord(r, source)),
        );
      // Records after the last one delivered were filtered out: the position moves past them too.
      const last = records.at(-1)?.sequenceNumber;
      if (last !== undefined && !stopped && position.current !== last) await position.advance(last);
      if (records.length < batchSize) {
        // Caught up with everything committed up to `through` (unless stopped mid-batch).
        if (!stopped) waiters.settle(through);
        return;
      }
    }
  };

  const pump = () => {
    if (running || stopped) return;
    running = (async () => {
      await position.ready;
      // Let the records of writes committed in the same tick join one batch.
      await new Promise((resolve) => setImmediate(resolve));
      while (!stopped && wanted) {
        wanted = false;
        await catchUp();
      }
    })()
      .catch((err: unknown) => {
        if (!stopped) logger.error(`[stream-feed] ${tableName}: delivery failed`, err);
        wanted = true; // try again on the next commit
      })
      .finally(() => {
        running = undefined;
        if (wanted && !stopped) pump();
      });
  };

  const unsubscribe = engine.onChange((records) => {
    if (stopped || !records.some((record) => record.tableName === tableName)) return;
    wanted = true;
    pump();
  });
  pump(); // a consumer may have records from before (a restart): deliver them now

  return {
    drain() {
      const target = stream.watermark();
      if (stopped || waiters.settled(target)) return Promise.resolve();
      wanted = true;
      pump();
      return waiters.wait(target);
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await running;
      waiters.releaseAll(); // nothing more will be delivered: release anyone waiting for it
    },
  };
}
