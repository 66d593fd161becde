/**
 * Stream feed: delivers an engine's change records of one table to a Lambda-style handler, as a
 * Lambda event source mapping on a DynamoDB stream (StreamViewType NEW_AND_OLD_IMAGES, with
 * ReportBatchItemFailures) does: in commit order, in batches, one batch at a time. Records are read
 * from the engine's stored stream, so a named consumer resumes where it stopped, even after a crash.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { ChangeRecord, Engine } from './index';

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
}

export interface StreamFeed {
  /** Resolves when every record committed so far has been delivered (or dropped). */
  drain(): Promise<void>;
  /**
   * Stops delivering; resolves once the batch being delivered (if any) is done. Undelivered records stay in the stream.
   */
  stop(): Promise<void>;
}

type LambdaAttributeMap = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['Keys']>;

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
  const logger = options.logger ?? console;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new RangeError(`batchSize must be an integer from 1 to 10000, got ${batchSize}`);
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError(`maxRetries must be a non-negative integer, got ${maxRetries}`);

  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // A stream ARN ends with the stream label, its creation time.
  const label = new Date().toISOString().replace(/Z$/, '');
  const eventSourceARN = `arn:aws:dynamodb:${region}:000000000000:table/${tableName}/stream/${label}`;
  const stream = engine.stream;

  // The last sequence number handled (or dropped). A consumer starts at its checkpoint; an anonymous
  // feed at the records committed from now on.
  let position: string | undefined = consumer ? undefined : stream.watermark();
  const ready: Promise<void> = consumer
    ? stream.checkpoint(consumer).then((saved) => {
        position = saved;
      })
    : Promise.resolve();
  /** Everything committed up to this sequence number has been read and settled. */
  let settledThrough = '';
  let stopped = false;
  let wanted = true; // records may be waiting
  let running: Promise<void> | undefined;
  const waiters: { target: string; resolve: () => void }[] = [];

  const toLambdaRecord = (record: ChangeRecord): DynamoDBRecord => ({
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: record.approximateCreationDateTime,
      Keys: record.keys as LambdaAttributeMap,
      ...(record.newImage ? { NewImage: record.newImage as LambdaAttributeMap } : {}),
      ...(record.oldImage ? { OldImage: record.oldImage as LambdaAttributeMap } : {}),
      SequenceNumber: record.sequenceNumber,
      SizeBytes: mapSize(record.keys) + mapSize(record.newImage) + mapSize(record.oldImage),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN,
  });

  const advance = async (sequenceNumber: string) => {
    position = sequenceNumber;
    if (consumer) await stream.saveCheckpoint(consumer, sequenceNumber);
  };

  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (stopped || settledThrough >= waiter.target) {
        waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  };

  /** Delivers one batch (with its retries); returns when its records are settled. */
  const deliverBatch = async (records: ChangeRecord[]): Promise<void> => {
    let batch = records.map(toLambdaRecord);
    for (let attempt = 0; ; attempt++) {
      const failedFrom = await invoke(batch);
      const succeeded = failedFrom ?? batch.length;
      // Checkpoint: records before the first failure are done.
      if (succeeded > 0) await advance(batch[succeeded - 1]!.dynamodb!.SequenceNumber!);
      if (failedFrom === undefined) return;
      batch = batch.slice(failedFrom);
      if (stopped) return; // not settled: delivered again by the next feed of this consumer
      if (attempt >= maxRetries) {
        logger.error(
          `[stream-feed] ${tableName}: dropping ${batch.length} record(s) ` +
            `after ${attempt + 1} failed attempt(s), sequence numbers ` +
            `${batch[0]?.dynamodb?.SequenceNumber}..${batch.at(-1)?.dynamodb?.SequenceNumber}`,
        );
        await advance(batch.at(-1)!.dynamodb!.SequenceNumber!);
        return;
      }
      // Retry at once, but after the event loop has had a turn (a handler that fails without I/O
      // would otherwise starve it).
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  /** Calls the handler; returns the index of the first failed record, or undefined if all succeeded. */
  const invoke = async (batch: DynamoDBRecord[]): Promise<number | undefined> => {
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
  };

  const pump = () => {
    if (running || stopped) return;
    running = (async () => {
      await ready;
      // Let the records of writes committed in the same tick join one batch.
      await new Promise((resolve) => setImmediate(resolve));
      while (!stopped && wanted) {
        wanted = false;
        for (;;) {
          const through = stream.watermark();
          const records = await stream.read(tableName, position, batchSize);
          if (stopped) return;
          if (records.length > 0) await deliverBatch(records);
          if (records.length < batchSize) {
            // Caught up with everything committed up to `through` (unless stopped mid-batch).
            if (!stopped && through > settledThrough) settledThrough = through;
            wake();
            break;
          }
        }
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
      if (stopped || settledThrough >= target) return Promise.resolve();
      wanted = true;
      pump();
      return new Promise((resolve) => waiters.push({ target, resolve }));
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await running;
      wake(); // nothing more will be delivered: release anyone waiting for it
    },
  };
}

/** Approximate size in bytes of an attribute map (attribute names plus values), for SizeBytes. */
function mapSize(map: Record<string, unknown> | undefined): number {
  if (!map) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(map))
    size += Buffer.byteLength(name) + valueSize(value as Record<string, unknown>);
  return size;
}

function valueSize(value: Record<string, unknown>): number {
  const [type] = Object.keys(value);
  const val = type === undefined ? undefined : value[type];
  switch (type) {
    case 'S':
      return Buffer.byteLength(val as string);
    case 'N':
      return Math.ceil((val as string).replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
    case 'B':
      return Buffer.from(val as string, 'base64').length;
    case 'SS':
    case 'NS':
    case 'BS':
      return (val as string[]).reduce((sum, member) => sum + valueSize({ [type.slice(0, 1)]: member }), 0);
    case 'L':
      return 3 + (val as Record<string, unknown>[]).reduce((sum, member) => sum + 1 + valueSize(member), 0);
    case 'M':
      return 3 + mapSize(val as Record<string, unknown>);
    default:
      return 1; // BOOL, NULL
  }
}
