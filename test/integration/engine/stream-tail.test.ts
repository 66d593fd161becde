/**
 * The newest change records kept in memory (packages/local-engine/src/stream-tail.ts): whatever it
 * answers is exactly what the stored stream holds after the same sequence number, and it answers
 * every reader that keeps up; the rest is left to the store.
 */
import fc from 'fast-check';
import type { ChangeRecord } from '@device-manager/local-engine';
import { StreamTail } from '@device-manager/local-engine/stream-tail';

const TABLES = ['one', 'two'];
const seq = (n: number) => String(n).padStart(25, '0');
const record = (n: number, tableName: string, seconds = n): ChangeRecord => ({
  eventID: `e${n}`,
  eventName: 'INSERT',
  tableName,
  keys: { pk: { S: `k${n}` } },
  sequenceNumber: seq(n),
  approximateCreationDateTime: seconds,
});

/** Commits of 1–6 records each (tables drawn per record), then reads after some sequence number. */
const steps = fc.array(
  fc.oneof(
    fc.record({ add: fc.array(fc.constantFrom(...TABLES), { minLength: 1, maxLength: 6 }) }),
    fc.record({
      table: fc.constantFrom(...TABLES),
      back: fc.option(fc.nat({ max: 40 }), { nil: undefined }),
      limit: fc.integer({ min: 1, max: 7 }),
    }),
  ),
  { maxLength: 60 },
);

test('what the tail answers equals the stored stream after the same number; a reader that keeps up is answered', () => {
  fc.assert(
    fc.property(steps, fc.integer({ min: 2, max: 12 }), (program, capacity) => {
      const START = 100;
      const tail = new StreamTail(seq(START), capacity);
      const stored: ChangeRecord[] = [];
      let next = START + 1;
      for (const step of program) {
        if ('add' in step) {
          const commit = step.add.map((table) => record(next++, table));
          stored.push(...commit);
          tail.add(commit);
          continue;
        }
        // `back` records before the newest (any table), or the engine's start, or undefined (a first read).
        const after = step.back === undefined ? undefined : seq(Math.max(START - 5, next - 1 - step.back));
        const expected = stored
          .filter((r) => r.tableName === step.table && after !== undefined && r.sequenceNumber > after)
          .slice(0, step.limit);
        const answer = tail.read(step.table, after, step.limit);
        if (answer !== undefined) expect(answer).toEqual(expected);
        else expect(after === undefined || after < seq(START) || expected.length > 0).toBe(true);
        // A reader at most half the capacity's records of its table behind is always answered from memory.
        const behind = stored.filter(
          (r) => r.tableName === step.table && after !== undefined && r.sequenceNumber > after,
        );
        if (after !== undefined && after >= seq(START) && behind.length <= Math.floor(capacity / 2))
          expect(answer).toEqual(expected);
      }
    }),
  );
});

test('records trimmed for retention leave the tail, and reads that would need them go to the store', () => {
  const tail = new StreamTail(seq(0), 100);
  tail.add([record(1, 'one', 10), record(2, 'one', 20), record(3, 'two', 15), record(4, 'one', 30)]);
  tail.trim(21);
  expect(tail.read('one', seq(0), 10)).toBeUndefined();
  expect(tail.read('one', seq(1), 10)).toBeUndefined();
  expect(tail.read('one', seq(2), 10)).toEqual([record(4, 'one', 30)]);
  expect(tail.read('two', seq(3), 10)).toEqual([]);
  expect(tail.read('two', seq(2), 10)).toBeUndefined();
  // A table that never had a record: nothing after the tail's start.
  expect(tail.read('three', seq(0), 10)).toEqual([]);
});
