/**
 * The engine's fast path past dynalite's type walk (packages/local-engine/src/wire-values.ts): a map
 * it takes as sent is one dynalite's walk returns unchanged, and the shapes the SDK sends are taken.
 */
import fc from 'fast-check';
import { actionValidations, validations } from '@device-manager/local-engine/dynalite';
import { isWireMap, isWireValue } from '@device-manager/local-engine/wire-values';

const base64 = fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const name = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'S'));

/** Attribute values as the SDK sends them. */
const wire: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.record({ S: fc.string() }),
    fc.record({ N: fc.integer().map(String) }),
    fc.record({ BOOL: fc.boolean() }),
    fc.constant({ NULL: true }),
    fc.record({ B: base64 }),
    fc.record({ SS: fc.array(fc.string(), { minLength: 1, maxLength: 3 }) }),
    fc.record({ NS: fc.array(fc.integer().map(String), { minLength: 1, maxLength: 3 }) }),
    fc.record({ BS: fc.array(base64, { minLength: 1, maxLength: 3 }) }),
    fc.record({ L: fc.array(tie('value'), { maxLength: 3 }) }),
    fc.record({ M: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 }) }),
  ),
})).value;

/** Values dynalite coerces, rejects or strips: a type member of the wrong JSON type, two members, junk. */
const odd: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ BOOL: fc.constantFrom('true', 'no', 1) }),
  fc.record({ N: fc.integer() }),
  fc.record({ S: fc.constantFrom(null, true, [] as unknown[]) }),
  fc.record({ S: fc.string(), N: fc.constant('1') }),
  fc.record({ X: fc.string() }),
  fc.record({ B: fc.constantFrom('abc', 'ab==x', '@@@@') }),
  fc.constantFrom(null, 'text', 3, [] as unknown[], {}),
);

const maps = fc.dictionary(name, fc.oneof(wire, wire, odd), { maxKeys: 4 });

/** dynalite's walk of an item, or its error message. */
function walked(item: unknown): unknown {
  try {
    return validations.checkTypes({ TableName: 'items', Item: item } as never, actionValidations.putItem.types).Item;
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('wire-shaped attribute values', () => {
  it('a map taken as sent is one dynalite would return unchanged', () => {
    fc.assert(
      fc.property(maps, (map) => {
        if (isWireMap(map)) expect(walked(map)).toEqual(map);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes every map the SDK sends', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 6 }), wire, { maxKeys: 4 }), (map) => isWireMap(map)));
  });

  it('leaves coercions, errors and an own __proto__ to dynalite', () => {
    expect(isWireValue({ BOOL: 'true' })).toBe(false);
    expect(isWireValue({ N: 1 })).toBe(false);
    expect(isWireValue({ S: 'a', N: '1' })).toBe(false);
    expect(isWireValue({ B: 'abc' })).toBe(false);
    expect(isWireValue({})).toBe(false);
    expect(isWireMap(JSON.parse('{"__proto__": {"S": "x"}}'))).toBe(false);
    expect(isWireMap([{ S: 'x' }])).toBe(false);
    expect(walked({ a: { BOOL: 'true' } })).toEqual({ a: { BOOL: true } });
  });
});
