/**
 * An in-memory engine's stream records (packages/local-engine/src/record-log.ts): whatever order the
 * commits complete in, a read answers the committed records above a sequence number, in sequence
 * order, up to the bound it is given, as the store's iteration does; a trim drops the records older
 * than its cutoff and counts them.
 */
import fc from 'fast-check';
import type { ChangeRecord } from '@device-manager/local-engine';
import { RecordLog } from '@device-manager/local-engine/record-log';

const TABLES = ['one', 'two'];
const seq = (n: number) => String(n).padStart(25, '0');
const record = (n: number, tableName: string): ChangeRecord => ({
  eventID: `e${n}`,
  eventName: 'INSERT',
  tableName,
  keys: { pk: { S: `k${n}` } },
  newImage: { pk: { S: `k${n}` }, n: { N: String(n) } },
  sequenceNumber: seq(n),
  // Ten records a second.
  approximateCreationDateTime: Math.floor(n / 10),
});

/** Commits of 1–5 records (tables drawn per record) with consecutive numbers, completing in the drawn order. */
const commits = fc
  .array(fc.array(fc.constantFrom(...TABLES), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 30 })
  .chain((tables) => {
    let next = 1;
    const groups = tables.map((group) => group.map((table) => record(next++, table)));
    return fc.tuple(fc.constant(groups), fc.shuffledSubarray(groups, { minLength: groups.length }));
  });

test('reads answer the committed records above a number and up to the bound, in sequence order', () => {
  fc.assert(
    fc.property(
      commits,
      fc.constantFrom(...TABLES),
      fc.nat({ max: 160 }),
      fc.nat({ max: 160 }),
      fc.integer({ min: 1, max: 8 }),
      ([groups, completion], table, after, upTo, limit) => {
        const log = new RecordLog();
        for (const group of completion)
          log.append(
            group,
            group.map((r) => JSON.stringify(r)),
          );
        const expected = groups
          .flat()
          .filter((r) => r.tableName === table && r.sequenceNumber > seq(after) && r.sequenceNumber <= seq(upTo))
          .slice(0, limit);
        expect(log.read(table, seq(after), seq(upTo), limit)).toEqual(expected);
        // From the first record when no number is given.
        expect(log.read(table, undefined, seq(upTo), limit)).toEqual(
          groups
            .flat()
            .filter((r) => r.tableName === table && r.sequenceNumber <= seq(upTo))
            .slice(0, limit),
        );
      },
    ),
  );
});

test('a trim drops the records older than its cutoff, counts them, and keeps the rest readable', () => {
  fc.assert(
    fc.property(commits, fc.nat({ max: 20 }), ([groups, completion], cutoff) => {
      const log = new RecordLog();
      for (const group of completion)
        log.append(
          group,
          group.map((r) => JSON.stringify(r)),
        );
      const all = groups.flat();
      const old = all.filter((r) => r.approximateCreationDateTime < cutoff);
      expect(log.trim(cutoff)).toBe(old.length);
      expect(log.trim(cutoff)).toBe(0);
      for (const table of TABLES)
        expect(log.read(table, undefined, seq(1000), 1000)).toEqual(
          all.filter((r) => r.tableName === table && r.approximateCreationDateTime >= cutoff),
        );
    }),
  );
});

test('a read parses each record from its JSON: readers get their own copies', () => {
  const log = new RecordLog();
  const first = record(1, 'one');
  log.append([first], [JSON.stringify(first)]);
  const [read] = log.read('one', undefined, seq(1), 10);
  expect(read).toEqual(first);
  expect(read).not.toBe(first);
  read!.keys.pk = { S: 'changed' };
  expect(log.read('one', undefined, seq(1), 10)[0]).toEqual(first);
});
