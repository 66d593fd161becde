/** The parts of the stream feed on their own (the feed end to end: test/integration/engine/stream-feed.test.ts). */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type BatchDelivery, deliverBatch } from '@device-manager/local-engine/stream-feed/batch-delivery';
import { DrainWaiters } from '@device-manager/local-engine/stream-feed/drain-waiters';

const record = (n: number): DynamoDBRecord => ({ dynamodb: { SequenceNumber: String(n).padStart(3, '0') } });
const batch = [1, 2, 3, 4].map(record);

function delivery(
  answers: ((event: DynamoDBStreamEvent) => DynamoDBBatchResponse | void)[],
  maxRetries = 3,
): BatchDelivery & { advanced: string[]; calls: string[][]; errors: string[] } {
  const advanced: string[] = [];
  const calls: string[][] = [];
  const errors: string[] = [];
  return {
    advanced,
    calls,
    errors,
    handler: async (event) => {
      calls.push(event.Records.map((r) => r.dynamodb!.SequenceNumber!));
      return answers[calls.length - 1]?.(event);
    },
    maxRetries,
    logger: { error: (message: string) => errors.push(message) },
    tableName: 't',
    advance: async (sequenceNumber) => {
      advanced.push(sequenceNumber);
    },
    stopped: () => false,
  };
}

describe('deliverBatch', () => {
  it('moves past the records before the first reported failure and retries from it', async () => {
    const d = delivery([
      () => ({ batchItemFailures: [{ itemIdentifier: '004' }, { itemIdentifier: '003' }] }),
      () => undefined,
    ]);
    await deliverBatch(d, batch);
    expect(d.calls).toEqual([
      ['001', '002', '003', '004'],
      ['003', '004'],
    ]);
    expect(d.advanced).toEqual(['002', '004']);
  });

  it('retries a whole batch on an unknown identifier or a throw, then drops it after maxRetries', async () => {
    const d = delivery(
      [
        () => ({ batchItemFailures: [{ itemIdentifier: 'nope' }] }),
        () => {
          throw new Error('boom');
        },
      ],
      1,
    );
    await deliverBatch(d, batch);
    expect(d.calls).toHaveLength(2);
    expect(d.advanced).toEqual(['004']);
    expect(d.errors).toEqual([
      '[stream-feed] t: dropping 4 record(s) after 2 failed attempt(s), sequence numbers 001..004',
    ]);
  });
});

describe('DrainWaiters', () => {
  it('releases a waiter once its target is settled, or when all are released', async () => {
    const waiters = new DrainWaiters();
    const released: string[] = [];
    void waiters.wait('005').then(() => released.push('005'));
    void waiters.wait('009').then(() => released.push('009'));
    waiters.settle('006');
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual(['005']);
    expect(waiters.settled('006')).toBe(true);
    waiters.settle('004'); // never moves back
    expect(waiters.settled('006')).toBe(true);
    waiters.releaseAll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual(['005', '009']);
  });
});
