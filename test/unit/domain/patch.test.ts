import { applyShadowPatch, JSON_PATCH, MERGE_PATCH, mergePatch } from '../../../functions/domain/patch';
import { ValidationError } from '../../../functions/domain/errors';
import type { DeviceShadow } from '../../../functions/domain/device';

const shadow: DeviceShadow = {
  tags: ['a', 'b'],
  metadata: { fw: '1.0', loc: { building: 'A', floor: 3 } },
  icon: 'chip',
  icon_color: '#25ee32',
};

describe('RFC 7396 merge patch', () => {
  // Examples from RFC 7396 appendix A.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, expected) => expect(mergePatch(target, patch)).toEqual(expected));

  it('changes metadata, removes a key with null and leaves the input untouched', () => {
    const out = applyShadowPatch(shadow, MERGE_PATCH, {
      metadata: { fw: '2.0', loc: { floor: null } },
      tags: ['c', 'c'],
    });
    expect(out).toEqual({
      tags: ['c'],
      metadata: { fw: '2.0', loc: { building: 'A' } },
      icon: 'chip',
      icon_color: '#25ee32',
    });
    expect(shadow.metadata).toEqual({ fw: '1.0', loc: { building: 'A', floor: 3 } });
  });

  it('rejects fields that are not patchable, naming them', () => {
    let caught: unknown;
    try {
      applyShadowPatch(shadow, MERGE_PATCH, { status: 'ACTIVE', icon: 'x' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).details).toEqual([{ field: 'status', problem: 'not patchable' }]);
  });

  it('rejects removing tags or an invalid icon color', () => {
    expect(() => applyShadowPatch(shadow, MERGE_PATCH, { tags: null })).toThrow('required fields cannot be removed');
    expect(() => applyShadowPatch(shadow, MERGE_PATCH, { icon_color: 'red' })).toThrow('patched device is invalid');
    expect(() => applyShadowPatch(shadow, MERGE_PATCH, ['x'])).toThrow('must be a JSON object');
  });
});

describe('RFC 6902 JSON patch', () => {
  it('applies add, replace, remove, move, copy and test', () => {
    const out = applyShadowPatch(shadow, JSON_PATCH, [
      { op: 'test', path: '/icon', value: 'chip' },
      { op: 'add', path: '/tags/-', value: 'c' },
      { op: 'replace', path: '/metadata/fw', value: '2.0' },
      { op: 'remove', path: '/metadata/loc/floor' },
      { op: 'copy', from: '/metadata/fw', path: '/metadata/fw_copy' },
      { op: 'move', from: '/metadata/fw_copy', path: '/metadata/fw_prev' },
    ]);
    expect(out).toEqual({
      tags: ['a', 'b', 'c'],
      metadata: { fw: '2.0', loc: { building: 'A' }, fw_prev: '2.0' },
      icon: 'chip',
      icon_color: '#25ee32',
    });
  });

  it('fails on a failed test operation and changes nothing', () => {
    expect(() =>
      applyShadowPatch(shadow, JSON_PATCH, [
        { op: 'test', path: '/icon', value: 'other' },
        { op: 'replace', path: '/icon', value: 'x' },
      ]),
    ).toThrow('JSON patch could not be applied');
    expect(shadow.icon).toBe('chip');
  });

  it('rejects paths outside the patchable fields', () => {
    expect(() => applyShadowPatch(shadow, JSON_PATCH, [{ op: 'replace', path: '/status', value: 'ACTIVE' }])).toThrow(
      'only tags, metadata, icon and icon_color',
    );
    expect(() => applyShadowPatch(shadow, JSON_PATCH, [{ op: 'copy', from: '/version', path: '/metadata/v' }])).toThrow(
      'only tags',
    );
    expect(() => applyShadowPatch(shadow, JSON_PATCH, { op: 'add' })).toThrow('must be an array');
  });

  it('names `from`, not `path`, when only the source of a move or copy is outside the patchable fields', () => {
    let caught: unknown;
    try {
      applyShadowPatch(shadow, JSON_PATCH, [{ op: 'move', from: '/status', path: '/metadata/x' }]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).details).toEqual([
      { field: '[0].from', problem: "'/status' is not a patchable path" },
    ]);
  });

  it('rejects a result that breaks the schema (metadata replaced by a string)', () => {
    expect(() => applyShadowPatch(shadow, JSON_PATCH, [{ op: 'replace', path: '/metadata', value: 'x' }])).toThrow(
      'patched device is invalid',
    );
    expect(() => applyShadowPatch(shadow, JSON_PATCH, [{ op: 'remove', path: '/icon' }])).toThrow(
      'patched device is invalid',
    );
  });
});
