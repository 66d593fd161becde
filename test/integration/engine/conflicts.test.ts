/**
 * Conflict emulation (docs/local-engine.md, _Conflicts_): with `conflicts: 'emulate'` the engine
 * rejects what DynamoDB rejects on an item of a transaction in flight, in the shapes the SDK parses;
 * by default it serialises the same load without a single rejection.
 */
import {
  PutItemCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { conflictModeFrom, conflictOptionsFrom } from '@device-manager/local-engine';
import { createTable, scanAll, startHarness, type Harness } from './support';

const TABLE = 'conflicts';
const CONFLICT = { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' };
/** Rounds of one holder each (a probe meets the first holder in flight almost always). */
const ROUNDS = 5;
/** How long a transaction stays in flight at least: long enough for several probes to meet it. */
const WINDOW_MS = 100;

const increment: TransactWriteItem = {
  Update: {
    TableName: TABLE,
    Key: { pk: { S: 'counter' } },
    UpdateExpression: 'ADD n :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  },
};

/**
 * Runs `probe` over and over while a holder (a transaction that increments the counter) is in
 * flight, for `ROUNDS` holders. Returns how many probes were turned away (`probe` resolved true) and
 * how many holders committed.
 */
async function probeWhileHeld(harness: Harness, probe: () => Promise<boolean>): Promise<[number, number]> {
  let turnedAway = 0;
  let held = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let done = false;
    const holder = harness.client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [increment, { Put: { TableName: TABLE, Item: { pk: { S: `holder-${round}` } } } }],
        }),
      )
      .then(
        () => held++,
        (err: unknown) => expect((err as Error).name).toBe('TransactionCanceledException'),
      )
      .finally(() => {
        done = true;
      });
    while (!done) if (await probe()) turnedAway++;
    await holder;
  }
  return [turnedAway, held];
}

/**
 * Sends a transaction whose second item is the counter: false when it succeeds, true when it is
 * cancelled for a conflict on the counter alone, in the shape the SDK parses.
 */
async function cancelledByConflict(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect((err as TransactionCanceledException).CancellationReasons).toEqual([{ Code: 'None' }, CONFLICT]);
    return true;
  }
}

async function counter(harness: Harness): Promise<number> {
  const items = await scanAll(harness.client, TABLE);
  return Number(items.find((item) => item.pk?.S === 'counter')?.n?.N ?? 0);
}

describe('conflicts: emulate', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ conflicts: 'emulate', conflictWindowMs: WINDOW_MS });
    await createTable(harness.client, TABLE, { hash: 'pk' });
  });
  afterEach(() => harness.close());

  it('cancels a transaction on an item of another one in flight with a TransactionConflict reason', async () => {
    let committed = 0;
    const [cancelled, held] = await probeWhileHeld(harness, async () => {
      const conflict = await cancelledByConflict(() =>
        harness.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Put: { TableName: TABLE, Item: { pk: { S: 'elsewhere' } } } }, increment],
          }),
        ),
      );
      if (!conflict) committed++;
      return conflict;
    });
    expect(cancelled).toBeGreaterThan(0);
    // A cancelled transaction wrote nothing: the counter counts the committed increments only.
    expect(await counter(harness)).toBe(committed + held);
    // A holder that a probe got to first is cancelled too.
    const { transactionsCancelled } = harness.engine.conflicts;
    expect(transactionsCancelled).toBeGreaterThanOrEqual(cancelled);
    expect(harness.engine.conflicts).toEqual({ transactionsCancelled, readsCancelled: 0, writesRejected: 0 });
  });

  it('rejects a PutItem on an item of a transaction in flight with TransactionConflictException', async () => {
    const [rejected] = await probeWhileHeld(harness, async () => {
      try {
        await harness.client.send(
          new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'counter' }, n: { N: '1000' } } }),
        );
        return false;
      } catch (err) {
        expect(err).toBeInstanceOf(TransactionConflictException);
        expect((err as Error).message).toBe(CONFLICT.Message);
        return true;
      }
    });
    expect(rejected).toBeGreaterThan(0);
    expect(harness.engine.conflicts.writesRejected).toBe(rejected);
  });

  it('cancels a TransactGetItems on an item of a transaction in flight', async () => {
    const [cancelled] = await probeWhileHeld(harness, () =>
      cancelledByConflict(() =>
        harness.client.send(
          new TransactGetItemsCommand({
            TransactItems: [
              { Get: { TableName: TABLE, Key: { pk: { S: 'elsewhere' } } } },
              { Get: { TableName: TABLE, Key: { pk: { S: 'counter' } } } },
            ],
          }),
        ),
      ),
    );
    expect(cancelled).toBeGreaterThan(0);
    expect(harness.engine.conflicts.readsCancelled).toBe(cancelled);
  });
});

describe('conflicts: serialise (default)', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ conflictWindowMs: WINDOW_MS });
    await createTable(harness.client, TABLE, { hash: 'pk' });
  });
  afterEach(() => harness.close());

  it('makes the same load wait instead: every request succeeds', async () => {
    let probes = 0;
    const [turnedAway, held] = await probeWhileHeld(harness, async () => {
      await harness.client.send(new TransactWriteItemsCommand({ TransactItems: [increment] }));
      await harness.client.send(
        new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: TABLE, Key: { pk: { S: 'counter' } } } }] }),
      );
      probes++;
      return false;
    });
    expect([turnedAway, held]).toEqual([0, ROUNDS]);
    expect(await counter(harness)).toBe(probes + ROUNDS);
    expect(harness.engine.conflicts).toEqual({ transactionsCancelled: 0, readsCancelled: 0, writesRejected: 0 });
  });
});

describe('ENGINE_CONFLICTS, ENGINE_CONFLICT_WINDOW_MS', () => {
  it('are serialise and 0 unless set, and refuse anything else', () => {
    expect(conflictModeFrom(undefined)).toBe('serialise');
    expect(conflictModeFrom('')).toBe('serialise');
    expect(conflictModeFrom('serialise')).toBe('serialise');
    expect(conflictModeFrom('emulate')).toBe('emulate');
    expect(() => conflictModeFrom('on')).toThrow("ENGINE_CONFLICTS must be 'emulate' or 'serialise', got 'on'");
    expect(conflictOptionsFrom({ ENGINE_CONFLICTS: 'emulate', ENGINE_CONFLICT_WINDOW_MS: '20' })).toEqual({
      conflicts: 'emulate',
      conflictWindowMs: 20,
    });
    expect(conflictOptionsFrom({})).toEqual({ conflicts: 'serialise', conflictWindowMs: 0 });
    expect(() => conflictOptionsFrom({ ENGINE_CONFLICT_WINDOW_MS: '-1' })).toThrow(
      "ENGINE_CONFLICT_WINDOW_MS must be a whole number of milliseconds, got '-1'",
    );
  });
});
