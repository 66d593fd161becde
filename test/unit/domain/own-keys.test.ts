/**
 * Metadata paths address the device's own keys only (docs/api.md, Limits and edges): inherited members are never
 * values.
 */
import { compileCriterion, matchesAll, splitFilterParam, type Filter } from '../../../functions/domain/filters';
import { newDevice, type DeviceShadow } from '../../../functions/domain/device';
import { applyShadowPatch, JSON_PATCH, MERGE_PATCH } from '../../../functions/domain/patch';
import { ValidationError } from '../../../functions/domain/errors';
import { thingAttributesOf } from '../../../functions/app/iot-sync';

const at = new Date('2026-03-15T10:00:00.000Z');
const plain = newDevice({ id: 'plain', dms_id: 'dms-1', metadata: { fw: '1.0', loc: { building: 'A' } } }, at).device;
const owning = newDevice(
  { id: 'owning', dms_id: 'dms-1', metadata: { toString: 'x', loc: { constructor: 3 } } },
  at,
).device;

function filter(param: string): Filter {
  const { filter, problem } = compileCriterion(splitFilterParam(param)!, 'filter[0]');
  if (!filter) throw new Error(problem?.problem);
  return filter;
}

describe('metadata filters read own keys only', () => {
  it.each([
    ['metadata.toString[exists]true', false, true],
    ['metadata.toString[exists]false', true, false],
    ['metadata.__proto__[exists]true', false, false],
    ['metadata.constructor[ne]x', true, true],
    ['metadata.loc.constructor[exists]true', false, true],
    ['metadata.loc.constructor[eq]3', false, true],
    ['metadata.loc.hasOwnProperty[exists]true', false, false],
    ['metadata.fw.length[exists]true', false, false],
  ])('%s: plain %s, with the key %s', (param, onPlain, onOwning) => {
    expect(matchesAll(plain, [filter(param)])).toBe(onPlain);
    expect(matchesAll(owning, [filter(param)])).toBe(onOwning);
  });
});

describe('patches treat prototype names as plain keys', () => {
  const shadow: DeviceShadow = { tags: ['a'], metadata: { fw: '1.0' }, icon: 'chip', icon_color: '#25ee32' };

  it('a merge patch stores __proto__ and toString as own members', () => {
    const patch = JSON.parse('{"metadata":{"__proto__":{"polluted":true},"toString":"s"}}');
    const out = applyShadowPatch(shadow, MERGE_PATCH, patch);
    expect(Object.keys(out.metadata).sort()).toEqual(['__proto__', 'fw', 'toString']);
    expect(JSON.parse(JSON.stringify(out.metadata))).toEqual(
      JSON.parse('{"fw":"1.0","__proto__":{"polluted":true},"toString":"s"}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    [[{ op: 'move', from: '/metadata/toString', path: '/metadata/x' }], '[0].from'],
    [[{ op: 'copy', from: '/metadata/constructor', path: '/metadata/x' }], '[0].from'],
    [[{ op: 'remove', path: '/metadata/toString' }], '[0].path'],
    [
      [
        { op: 'add', path: '/metadata/y', value: 1 },
        { op: 'replace', path: '/metadata/hasOwnProperty', value: 1 },
      ],
      '[1].path',
    ],
  ])('a JSON patch reading an inherited member is a 400 naming it: %j', (patch, field) => {
    let caught: unknown;
    try {
      applyShadowPatch(shadow, JSON_PATCH, patch);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).details.map((d) => d.field)).toEqual([field]);
  });

  it('a JSON patch on own members still works', () => {
    const out = applyShadowPatch({ ...shadow, metadata: { toString: 'a' } }, JSON_PATCH, [
      { op: 'move', from: '/metadata/toString', path: '/metadata/x' },
    ]);
    expect(out.metadata).toEqual({ x: 'a' });
  });
});

describe('IoT thing attributes read own keys only', () => {
  it('an inherited member is no attribute; an own key of that name is', () => {
    expect(thingAttributesOf(plain, ['toString', 'loc.constructor'], 50)).toEqual({
      status: 'NO_IDENTITY',
      dms_owner: 'dms-1',
    });
    expect(thingAttributesOf(owning, ['toString', 'loc.constructor'], 50)).toEqual({
      status: 'NO_IDENTITY',
      dms_owner: 'dms-1',
      toString: 'x',
      'loc.constructor': '3',
    });
  });
});
