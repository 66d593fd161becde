/**
 * DynamoDB's size limits, measured as DynamoDB measures them.
 *
 * dynalite 4.0.0 already rejects items over 400 KB (PutItem, the result of UpdateItem, BatchWriteItem
 * puts) and keys over 2,048 / 1,024 bytes, but it measures strings and attribute names in UTF-16
 * code units rather than UTF-8 bytes, so an item or key of multi-byte text passes well over the
 * limit. The engine replaces its measure with the developer guide's rules (*DynamoDB item sizes and
 * formats*): attribute names and strings in UTF-8 bytes, binaries in raw bytes, numbers about one
 * byte per two significant digits plus one, null and Boolean one byte, lists and maps three bytes
 * plus one per element plus the elements (a map element's name included), sets the sum of their
 * members. It also adds the transaction limit dynalite lacks (4 MB across the items of a
 * transaction, checked by transactions.ts).
 */
import { db, type DynaliteError, type TableDescription, type WireItem, type WireValue } from './dynalite';

/** 400 KB: the largest item DynamoDB stores. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** 4 MB: the aggregate size of the items of one TransactWriteItems / TransactGetItems. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/** DynamoDB's wording for a transaction over 4 MB (ValidationException). */
export const TRANSACTION_TOO_LARGE = 'Transaction request cannot be larger than 4 MB';
// dynalite's wording, which is DynamoDB's (the missing space in "of2048" included).
const PARTITION_KEY_TOO_LARGE =
  'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes';
const SORT_KEY_TOO_LARGE =
  'One or more parameter values were invalid: Aggregated size ' +
  'of all range keys has exceeded the size limit of 1024 bytes';

/** The size of an item (attribute names plus values) by DynamoDB's rules. */
export function itemSize(item: WireItem): number {
  let size = 0;
  for (const name of Object.keys(item)) size += Buffer.byteLength(name, 'utf8') + valueSize(item[name]!);
  return size;
}

/** The size of one attribute value by DynamoDB's rules. */
export function valueSize(value: WireValue): number {
  const [type] = Object.keys(value);
  const val = type === undefined ? undefined : value[type];
  switch (type) {
    case 'S':
      return Buffer.byteLength(val as string, 'utf8');
    case 'B':
      return Buffer.from(val as string, 'base64').length;
    case 'N':
      return numberSize(val as string);
    case 'SS':
      return (val as string[]).reduce((sum, member) => sum + Buffer.byteLength(member, 'utf8'), 0);
    case 'BS':
      return (val as string[]).reduce((sum, member) => sum + Buffer.from(member, 'base64').length, 0);
    case 'NS':
      return (val as string[]).reduce((sum, member) => sum + numberSize(member), 0);
    case 'L':
      return 3 + (val as WireValue[]).reduce((sum, member) => sum + 1 + valueSize(member), 0);
    case 'M': {
      const map = val as WireItem;
      return 3 + Object.keys(map).length + itemSize(map);
    }
    default:
      return 1; // NULL, BOOL
  }
}

/** One byte per two significant digits (leading and trailing zeros trimmed), plus one. */
function numberSize(text: string): number {
  const mantissa = text.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '');
  const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(significant.length, 1) / 2) + 1;
}

/** The UTF-8 (or raw, for binaries) size of a key attribute value; numbers are never too large. */
function keyBytes(value: WireValue | undefined): number {
  if (!value) return 0;
  if (typeof value.S === 'string') return Buffer.byteLength(value.S, 'utf8');
  if (typeof value.B === 'string') return Buffer.from(value.B, 'base64').length;
  return 0;
}

/** A ValidationException if a key attribute of the table is over its limit (2,048 bytes partition, 1,024 sort). */
function checkKeySizes(item: WireItem, table: TableDescription): DynaliteError | undefined {
  for (const { AttributeName, KeyType } of table.KeySchema) {
    const bytes = keyBytes(item[AttributeName]);
    if (KeyType === 'HASH' && bytes > MAX_PARTITION_KEY_BYTES) return db.validationError(PARTITION_KEY_TOO_LARGE);
    if (KeyType === 'RANGE' && bytes > MAX_SORT_KEY_BYTES) return db.validationError(SORT_KEY_TOO_LARGE);
  }
  return undefined;
}

const ORIGINALS = Symbol.for('device-manager.local-engine.limits.originals');

interface Originals {
  itemSize: (item: WireItem, ...rest: unknown[]) => number;
  validateItem: typeof db.validateItem;
  validateKey: typeof db.validateKey;
}

/**
 * Makes dynalite measure items and keys in bytes. Its validators and actions call `db.itemSize(item)`
 * (one argument) for the 400 KB check and `db.validateItem` / `db.validateKey` for keys; its capacity
 * arithmetic calls its own `itemSize` with more arguments and is left alone.
 *
 * dynalite is loaded once per process and shared by every copy of this module (jest loads one per
 * test file, and tears the previous file's globals down), so each engine start installs its own
 * copy's wrappers around dynalite's originals, kept on the module.
 */
export function installSizeLimits(): void {
  const module = db as typeof db & { [ORIGINALS]?: Originals; itemSize: Originals['itemSize'] };
  const originals = (module[ORIGINALS] ??= {
    itemSize: module.itemSize,
    validateItem: db.validateItem,
    validateKey: db.validateKey,
  });
  module.itemSize = (item: WireItem, ...rest: unknown[]) =>
    rest.length === 0 ? itemSize(item) : originals.itemSize(item, ...rest);
  db.validateItem = (item, table) => originals.validateItem(item, table) ?? checkKeySizes(item, table);
  db.validateKey = (key, table) => originals.validateKey(key, table) ?? checkKeySizes(key, table);
}
