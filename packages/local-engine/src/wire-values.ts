/**
 * A fast path for dynalite's type walk (`validations.checkTypes`) over attribute value maps. dynalite
 * walks every value of a request generically: a regular expression per type name, and a copy of every
 * map and value. A map whose values all have the shape DynamoDB's JSON protocol sends (one type member
 * each, of the right JSON type, base64 already canonical) comes out of that walk as an equal copy, so
 * the engine may take it as it is; any other map (a coercion to make, an error to report) still goes
 * through dynalite's walk, so errors and coercions stay dynalite's.
 */

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A base64 string that dynalite's `Blob` check accepts unchanged. */
const isCanonicalBase64 = (value: unknown): boolean =>
  typeof value === 'string' && value.length % 4 === 0 && Buffer.from(value, 'base64').toString('base64') === value;

const isStringList = (value: unknown): boolean =>
  Array.isArray(value) && value.every((member) => typeof member === 'string');

/** One attribute value in its wire shape, as dynalite's walk would return it (an equal copy). */
export function isWireValue(value: unknown): boolean {
  if (!isObject(value)) return false;
  let members = 0;
  for (const type in value) {
    if (++members > 1) return false;
    const member = value[type];
    switch (type) {
      case 'S':
      case 'N':
        if (typeof member !== 'string') return false;
        break;
      case 'BOOL':
      case 'NULL':
        if (typeof member !== 'boolean') return false;
        break;
      case 'B':
        if (!isCanonicalBase64(member)) return false;
        break;
      case 'SS':
      case 'NS':
        if (!isStringList(member)) return false;
        break;
      case 'BS':
        if (!Array.isArray(member) || !member.every(isCanonicalBase64)) return false;
        break;
      case 'L':
        if (!Array.isArray(member) || !member.every(isWireValue)) return false;
        break;
      case 'M':
        if (!isWireMap(member)) return false;
        break;
      default:
        return false;
    }
  }
  return members === 1;
}

/**
 * A map of attribute values (an item, a key, expression attribute values) that dynalite's walk would
 * copy unchanged. An own `__proto__` member goes through the walk, which drops it.
 */
export function isWireMap(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  for (const name in value) if (name === '__proto__' || !isWireValue(value[name])) return false;
  return true;
}
