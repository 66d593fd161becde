/**
 * The engine's item and index keys (packages/local-engine/src/keys.ts) are dynalite's, string for
 * string: for every key type, projections of every kind, old items and new, strings with characters
 * beyond the Basic Multilingual Plane and lone surrogates, and a hash key met again after its prefix
 * was remembered.
 */
import fc from 'fast-check';
import { db, type IndexDescription, type TableDescription, type WireItem } from '@device-manager/local-engine/dynalite';
import { createKey, getIndexActions, hashPrefix } from '@device-manager/local-engine/keys';

type KeyType = 'S' | 'N' | 'B';

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  // Lone surrogates, and pairs split across two key values.
  fc.constantFrom('\uD83D', '\uDE00', 'a\uD83D', '\uDE00b', '\u{1F600}', ''),
);
const number = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.constantFrom('0', '-12.5', '1e10', '0.001', '-1e-5', '123456789012345678901234567890', '-0.5'),
);
const binary = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const keyValue = (type: KeyType) => (type === 'S' ? text : type === 'N' ? number : binary);
const keyType = fc.constantFrom<KeyType>('S', 'N', 'B');

/** A table (hash key, maybe a range key) with two indexes over other attributes, and items for it. */
const scenario = fc
  .record({
    hash: keyType,
    range: fc.option(keyType, { nil: undefined }),
    indexHash: keyType,
    indexRange: fc.option(keyType, { nil: undefined }),
    projection: fc.constantFrom('ALL', 'KEYS_ONLY', 'INCLUDE'),
  })
  .chain((shape) => {
    const attribute = (name: string, type: KeyType | undefined) =>
      type
        ? fc
            .option(
              keyValue(type).map((v) => ({ [type]: v })),
              { nil: undefined, freq: 4 },
            )
            .map((v) => [name, v] as const)
        : fc.constant([name, undefined] as const);
    const item = fc
      .tuple(
        keyValue(shape.hash),
        shape.range ? keyValue(shape.range) : fc.constant(undefined),
        attribute('gh', shape.indexHash),
        attribute('gr', shape.indexRange),
        fc.option(text, { nil: undefined }),
      )
      .map(([h, r, gh, gr, extra]) => {
        const built: WireItem = { pk: { [shape.hash]: h } as WireItem[string] };
        if (shape.range && r !== undefined) built.sk = { [shape.range]: r } as WireItem[string];
        for (const [name, value] of [gh, gr]) if (value) built[name] = value as WireItem[string];
        if (extra !== undefined) built.extra = { S: extra };
        return built;
      });
    return fc.tuple(fc.constant(shape), item, fc.option(item, { nil: undefined }));
  });

function tableOf(shape: {
  hash: KeyType;
  range?: KeyType;
  indexHash: KeyType;
  indexRange?: KeyType;
  projection: string;
}): TableDescription {
  const index = (name: string, hash: string, range?: string): IndexDescription =>
    ({
      IndexName: name,
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        ...(range ? [{ AttributeName: range, KeyType: 'RANGE' }] : []),
      ],
      Projection:
        shape.projection === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: ['extra', 'missing'] }
          : { ProjectionType: shape.projection },
    }) as IndexDescription;
  return {
    TableName: 't',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: shape.hash },
      ...(shape.range ? [{ AttributeName: 'sk', AttributeType: shape.range }] : []),
      { AttributeName: 'gh', AttributeType: shape.indexHash },
      ...(shape.indexRange ? [{ AttributeName: 'gr', AttributeType: shape.indexRange }] : []),
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      ...(shape.range ? [{ AttributeName: 'sk', KeyType: 'RANGE' }] : []),
    ],
    GlobalSecondaryIndexes: [
      index('by-g', 'gh', shape.indexRange ? 'gr' : undefined),
      // An index keyed on the table's own range key and the index hash, the other way round.
      index('by-g-again', 'gh', shape.range ? 'sk' : undefined),
    ],
  } as unknown as TableDescription;
}

test("item keys and index entries are dynalite's, for every key type and projection, old item and new", () => {
  fc.assert(
    fc.property(scenario, ([shape, item, existing]) => {
      const table = tableOf(shape);
      const indexes = table.GlobalSecondaryIndexes!;
      for (let round = 0; round < 2; round++) {
        // The second round meets every hash key again, after its prefix was remembered.
        expect(createKey(item, table)).toBe(db.createKey(item, table));
        expect(getIndexActions(indexes, existing, item, table)).toEqual(
          db.getIndexActions(indexes, existing, item, table),
        );
        expect(getIndexActions(indexes, item, undefined, table)).toEqual(
          db.getIndexActions(indexes, item, undefined, table),
        );
      }
    }),
    { numRuns: 500 },
  );
});

test("hash prefixes are dynalite's, a pair of strings joined or not", () => {
  fc.assert(
    fc.property(
      keyType.chain((type) => fc.tuple(fc.constant(type), keyValue(type))),
      fc.option(
        keyType.chain((type) => fc.tuple(fc.constant(type), keyValue(type))),
        { nil: undefined },
      ),
      ([hashType, hashKey], range) => {
        const expected = db.hashPrefix(hashKey, hashType, range?.[1], range?.[0]);
        expect(hashPrefix(hashKey, hashType, range?.[1], range?.[0])).toBe(expected);
        expect(hashPrefix(hashKey, hashType, range?.[1], range?.[0])).toBe(expected);
      },
    ),
    { numRuns: 1000 },
  );
  // Hash keys longer than the ones remembered, up to DynamoDB's 2,048 bytes, and one just within.
  for (const key of ['k'.repeat(256), 'k'.repeat(257), '\u{1F600}'.repeat(512)])
    for (let round = 0; round < 2; round++) expect(hashPrefix(key, 'S')).toBe(db.hashPrefix(key, 'S'));
  // A surrogate pair split between the hash and the range key is two lone surrogates to dynalite.
  expect(hashPrefix('a\uD83D', 'S', '\uDE00b', 'S')).toBe(db.hashPrefix('a\uD83D', 'S', '\uDE00b', 'S'));
  expect(hashPrefix('a\uD83D', 'S', '\uDE00b', 'S')).not.toBe(hashPrefix('a', 'S', '\u{1F600}b', 'S'));
});
