/** The Lamassu translation, pure: operands, serials, JSONPath predicates and sort order. */
import {
  compareSortValues,
  compileJsonPath,
  jsonPathBudget,
  matchesJsonPath,
} from '../../../functions/lamassu/jsonpath';
import { lamassuOperandOf, lamassuSerial, translateCriterion } from '../../../functions/lamassu/model';

describe('translateCriterion', () => {
  it.each([
    ['tags', 'contains', 'ct'],
    ['tags', 'CONTAINS_IGNORECASE', 'ct_ic'],
    ['id', 'equal', 'eq'],
    ['dms_owner', 'notcontains_ignorecase', 'nc_ic'],
    ['creation_timestamp', 'before', 'bf'],
    ['status', 'notequal', 'ne'],
    ['status', 'in', 'in'],
  ])('%s[%s] is our %s', (field, operand, ours) => {
    expect(translateCriterion(field, operand, 'v')).toEqual({
      kind: 'native',
      criterion: { field, operand: ours, value: 'v' },
    });
  });

  it('ignores unknown fields, names an unknown operand with Lamassu’s message', () => {
    expect(translateCriterion('icon', 'eq', 'x')).toEqual({ kind: 'ignored' });
    expect(translateCriterion('status', 'contains', 'x')).toEqual({
      kind: 'invalid',
      message: "invalid filter operand 'contains' for field 'status' of type 4",
    });
  });

  it('decodes a JSONPath value once more, as Lamassu does, keeping one that does not decode', () => {
    expect(
      translateCriterion('metadata', 'jsonpath', '%24.tags%5B%3F%28%40.key%20%3D%3D%20%22production%22%29%5D'),
    ).toEqual({ kind: 'jsonpath', field: 'metadata', expression: '$.tags[?(@.key == "production")]' });
    expect(translateCriterion('metadata', 'jsonpath', '$.rate == 100%')).toMatchObject({
      expression: '$.rate == 100%',
    });
  });

  it('answers tags criteria with Lamassu’s long names', () => {
    expect(lamassuOperandOf({ field: 'tags', operand: 'ct_ic', value: 'a' }).operand).toBe('contains_ignorecase');
    expect(lamassuOperandOf({ field: 'id', operand: 'eq', value: 'a' }).operand).toBe('eq');
  });
});

it('writes serials in whole bytes', () => {
  expect(['a3f', '0a3f', 'ff', '1'].map(lamassuSerial)).toEqual(['0a3f', '0a3f', 'ff', '01']);
});

describe('JSONPath predicates', () => {
  const doc = { fw: '1.4.2', battery: 15, tags: [{ key: 'production' }], nested: { on: true } };
  it.each([
    ['$.fw', true],
    ['$.missing', false],
    ['exists($.nested.on)', true],
    ['$.fw == "1.4.2"', true],
    ["$.fw == '1.4.2'", true],
    ['$.battery < 20', true],
    ['$.battery >= 20', false],
    ['$.fw < 3', false],
    ['$.nested.on == true', true],
    ['$.tags[?(@.key == "production")]', true],
    ['$.tags[?(@.key == "lab")]', false],
  ])('%s → %s', (expr, expected) => {
    const predicate = compileJsonPath(expr);
    expect(typeof predicate).toBe('object');
    expect(matchesJsonPath(predicate as Exclude<typeof predicate, string>, doc, jsonPathBudget())).toBe(expected);
  });

  it('refuses what is not a JSONPath, an unreadable literal, and overlong expressions', () => {
    expect(compileJsonPath('fw == 1')).toMatch(/must start with \$/);
    expect(compileJsonPath('$.fw == nope')).toMatch(/not a JSON literal/);
    expect(compileJsonPath(`$.${'a'.repeat(600)}`)).toMatch(/1 to 500 characters/);
  });
});

it('sorts numbers, then strings, then other JSON, missing values last', () => {
  const values = [undefined, 'b', { x: 1 }, 2, 'a', 10];
  expect([...values].sort(compareSortValues)).toEqual([2, 10, 'a', 'b', { x: 1 }, undefined]);
});
