/**
 * A value's JSON text kept beside it, so that a response built from many values (a list page) joins
 * texts already at hand instead of serializing every value again: a device read from the table
 * carries its stored JSON (what its serialization would give), a Lamassu page item the text its
 * byte budget counted. The text is a non-enumerable property: copies (`{...device}`) drop it.
 */
const JSON_TEXT = Symbol('json text');

/** Attaches `text`, which must be `JSON.stringify(value)`. */
export function withJsonText<T extends object>(value: T, text: string): T {
  Object.defineProperty(value, JSON_TEXT, { value: text, enumerable: false, configurable: true });
  return value;
}

/** The JSON text of `value`: the attached one, else its serialization. */
export function jsonTextOf(value: unknown): string {
  const attached =
    typeof value === 'object' && value !== null ? (value as Record<symbol, unknown>)[JSON_TEXT] : undefined;
  return typeof attached === 'string' ? attached : JSON.stringify(value);
}

/** Whether `value` carries its JSON text. */
export const hasJsonText = (value: unknown) =>
  typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[JSON_TEXT] === 'string';

/** Serialized bytes of `value` (UTF-8), from its attached text when it has one. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(jsonTextOf(value));

/**
 * The JSON text of a page (`{list, next}` or `{next, list}`, keys in its order), its `list` built
 * from the items' texts: equal to `JSON.stringify(page)` when every attached text is its item's
 * serialization.
 */
export function pageJsonText<P extends { list: readonly unknown[] }>(page: P): string {
  const members = Object.entries(page)
    .filter(([, v]) => v !== undefined)
    .map(
      ([k, v]) =>
        `${JSON.stringify(k)}:${k === 'list' ? `[${page.list.map(jsonTextOf).join(',')}]` : JSON.stringify(v)}`,
    );
  return `{${members.join(',')}}`;
}
