/**
 * Stream feed: delivers an engine's change records of one table to a Lambda-style handler, as a
 * Lambda event source mapping on a DynamoDB stream (StreamViewType NEW_AND_OLD_IMAGES, with
 * ReportBatchItemFailures) does: in commit order, in batches, one batch at a time.
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
}

export interface StreamFeed {
  /** resolves when every record emitted so far has been delivered */
  drain(): Promise<void>;
  /** Stops listening; resolves once the batch being delivered (if any) is done. Records not yet delivered are discarded. */
  stop(): Promise<void>;
}

type LambdaAttributeMap = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['Keys']>;

/**
 * Starts delivering the change records of `tableName` to `handler`.
 *
 * A batch fails when the handler throws (or rejects), or returns `batchItemFailures`; delivery
 * then resumes from the first failed record (the lowest failed sequence number; an identifier that
 * is empty or not in the batch fails the whole batch), up to `maxRetries` times, after which the
 * failed records are logged and dropped. Records are only delivered after a previous batch is done.
 *
 * @returns controls to wait for delivery ({@link StreamFeed.drain}) and to stop.
 */
export function startStreamFeed(options: StreamFeedOptions): StreamFeed {
  const { engine, tableName, handler } = options;
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 3;
  const logger = options.logger ?? console;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new RangeError(`batchSize must be an integer from 1 to 10000, got ${batchSize}`);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new RangeError(`maxRetries must be a non-negative integer, got ${maxRetries}`);

  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // A stream ARN ends with the stream label, its creation time.
  const label = new Date().toISOString().replace(/Z$/, '');
  const eventSourceARN = `arn:aws:dynamodb:${region}:000000000000:table/${tableName}/stream/${label}`;

  const queue: DynamoDBRecord[] = [];
  let enqueued = 0; // records ever queued
  let settled = 0; // records delivered or dropped
  let stopped = false;
  let running: Promise<void> | undefined;
  const waiters: { target: number; resolve: () => void }[] = [];

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

  const settle = (count: number) => {
    settled += count;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (settled >= waiter.target) {
        waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  };

  /** Delivers one batch (with its retries); returns when its records are settled. */
  const deliverBatch = async (): Promise<void> => {
    let batch = queue.slice(0, batchSize);
    for (let attempt = 0; ; attempt++) {
      const failedFrom = await invoke(batch);
      const succeeded = failedFrom ?? batch.length;
      queue.splice(0, succeeded); // checkpoint: records before the first failure are done
      settle(succeeded);
      if (failedFrom === undefined) return;
      batch = batch.slice(failedFrom);
      if (attempt >= maxRetries || stopped) {
        if (!stopped) {
          logger.error(
            `[stream-feed] ${tableName}: dropping ${batch.length} record(s) after ${attempt + 1} failed attempt(s), sequence numbers ${batch[0]?.dynamodb?.SequenceNumber}..${batch.at(-1)?.dynamodb?.SequenceNumber}`,
          );
        }
        queue.splice(0, batch.length);
        settle(batch.length);
        return;
      }
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
      const index = batch.findIndex((record) => failure?.itemIdentifier && record.dynamodb?.SequenceNumber === failure.itemIdentifier);
      if (index < 0) return 0; // missing or unknown identifier: the whole batch failed
      first = Math.min(first, index);
    }
    return first;
  };

  const pump = () => {
    if (running || stopped || queue.length === 0) return;
    running = (async () => {
      // Let the records of writes committed in the same tick join one batch.
      await new Promise((resolve) => setImmediate(resolve));
      while (!stopped && queue.length > 0) await deliverBatch();
    })()
      .catch((err: unknown) => logger.error(`[stream-feed] ${tableName}: delivery failed`, err))
      .finally(() => {
        running = undefined;
        pump();
      });
  };

  const unsubscribe = engine.onChange((records) => {
    if (stopped) return;
    for (const record of records) {
      if (record.tableName !== tableName) continue;
      queue.push(toLambdaRecord(record));
      enqueued++;
    }
    pump();
  });

  return {
    drain() {
      if (stopped || settled >= enqueued) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ target: enqueued, resolve }));
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await running;
      // Nothing more will be delivered: release anyone waiting for it.
      settle(queue.length);
      queue.length = 0;
    },
  };
}

/** Approximate size in bytes of an attribute map (attribute names plus values), for SizeBytes. */
function mapSize(map: Record<string, unknown> | undefined): number {
  if (!map) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(map)) size += Buffer.byteLength(name) + valueSize(value as Record<string, unknown>);
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
