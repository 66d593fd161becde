/**
 * docs/api.md, Limits and edges: metadata at most 16 KiB as compact UTF-8 JSON and 8 levels deep; beyond, 400 naming
 * `metadata`.
 */
import type { DeviceShadow } from '../../../functions/domain/device';
import { ValidationError } from '../../../functions/domain/errors';
import { applyShadowPatch, JSON_PATCH, MERGE_PATCH } from '../../../functions/domain/patch';
import { createDeviceSchema, MAX_METADATA_BYTES, problemsOf } from '../../../functions/domain/schemas';

/** A metadata object of exactly `bytes` compact UTF-8 bytes, with 3-byte characters. */
function sized(bytes: number): Record<string, string> {
  const m = { k: '\u20ac'.repeat(Math.floor((bytes - 8) / 3)) };
  m.k += 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(m)));
  expect(Buffer.byteLength(JSON.stringify(m))).toBe(bytes);
  return m;
}

/** An object nested `depth` levels, the outer one included. */
function nested(depth: number): Record<string, unknown> {
  let node: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) node = { n: node };
  return node;
}

const shadow: DeviceShadow = { tags: [], metadata: {}, icon: 'chip', icon_color: '#25ee32' };

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.details.map((d) => d.field);
    throw error;
  }
  return [];
}

const register = (metadata: unknown) => () => {
  const parsed = createDeviceSchema.safeParse({ id: 'd', dms_id: 'm', metadata });
  if (!parsed.success) throw new ValidationError('invalid device', problemsOf(parsed.error));
};
const merge = (metadata: unknown) => () => applyShadowPatch(shadow, MERGE_PATCH, { metadata });
const jsonPatch = (metadata: unknown) => () =>
  applyShadowPatch(shadow, JSON_PATCH, [{ op: 'replace', path: '/metadata', value: metadata }]);

describe.each([
  ['register', register],
  ['merge patch', merge],
  ['JSON patch', jsonPatch],
])('%s', (_, attempt) => {
  it('accepts 16 KiB and 8 levels exactly', () => {
    expect(fieldsOf(attempt(sized(MAX_METADATA_BYTES)))).toEqual([]);
    expect(fieldsOf(attempt(nested(8)))).toEqual([]);
    expect(fieldsOf(attempt({ a: [[[[[[[1]]]]]]] }))).toEqual([]);
  });

  it('rejects one byte or one level more, naming metadata', () => {
    expect(fieldsOf(attempt(sized(MAX_METADATA_BYTES + 1)))).toEqual(['metadata']);
    expect(fieldsOf(attempt(sized(143_000)))).toEqual(['metadata']);
    expect(fieldsOf(attempt(nested(9)))).toEqual(['metadata']);
    expect(fieldsOf(attempt({ a: [[[[[[[[1]]]]]]]] }))).toEqual(['metadata']);
  });

  it('rejects absurd nesting without exhausting the stack', () => {
    expect(
      fieldsOf(
        attempt(
          JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`.replace(/^\[/, '{"a":[').replace(/\]$/, ']}')),
        ),
      ),
    ).toEqual(['metadata']);
  });
});

it('a JSON patch growing metadata past the limit step by step is refused', () => {
  const ops = Array.from({ length: 20 }, (_, i) => ({ op: 'add', path: `/metadata/k${i}`, value: 'x'.repeat(1000) }));
  expect(fieldsOf(() => applyShadowPatch(shadow, JSON_PATCH, ops))).toEqual(['metadata']);
});
