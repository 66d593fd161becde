/**
 * The store keys of items and index entries, as dynalite's `db.createKey` and `db.getIndexActions`
 * make them (the same strings: test/unit/local-engine/keys.test.ts compares them), with less work per
 * key for the engine's own writes. dynalite hashes every hash key with a fresh MD5 object and three
 * updates (its `hashPrefix`), for the item and again for each of its index entries: about a twentieth
 * of the engine's thread in a bulk import. Here a string hash key's prefix is remembered (the items of
 * a device share their partition key, and index partition keys repeat across items), and the other
 * hashes are one-shot (`crypto.hash`, where Node has it). Numbers go to dynalite's own encoding.
 */
import * as nodeCrypto from 'node:crypto';
import { db, type IndexDescription, type TableDescription, type WireItem, type WireValue } from './dynalite';

type KeyType = 'S' | 'N' | 'B';

interface KeyPart {
  name: string;
  type: KeyType;
}

/** Prefixes remembered at most; past it the memory starts again (a bulk import's partition keys come and go). */
const REMEMBERED = 10_000;
/**
 * Longer hash keys are hashed each time: the memory stays a few megabytes whatever the keys (a hash
 * key may have 2,048 bytes), and the keys that repeat (device, index partitions) are short.
 */
const REMEMBERED_LENGTH = 256;
const prefixes = new Map<string, string>();

/** One-shot MD5 in hex (`crypto.hash`, Node 20.12 and later), or a hash object before. */
const md5Hex: (text: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (text) => nodeCrypto.hash('md5', text, 'hex')
    : (text) => nodeCrypto.createHash('md5').update(text).digest('hex');

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** dynalite's `hashPrefix`: the first 6 hex digits of MD5('Outliers' + hash key bytes + range key bytes). */
export function hashPrefix(hashKey: string, hashType: KeyType, rangeKey?: string, rangeType?: KeyType): string {
  // Numbers and binaries, dynalite's own encoding.
  if (hashType !== 'S' || (rangeKey !== undefined && rangeType !== 'S'))
    return db.hashPrefix(hashKey, hashType, rangeKey, rangeType);
  if (rangeKey === undefined) {
    if (hashKey.length > REMEMBERED_LENGTH) return md5Hex(`Outliers${hashKey}`).slice(0, 6);
    let prefix = prefixes.get(hashKey);
    if (prefix === undefined) {
      prefix = md5Hex(`Outliers${hashKey}`).slice(0, 6);
      if (prefixes.size >= REMEMBERED) prefixes.clear();
      prefixes.set(hashKey, prefix);
    }
    return prefix;
  }
  // Two strings encode as one when no surrogate pair forms across their boundary (else dynalite's way).
  if (
    hashKey.length > 0 &&
    rangeKey.length > 0 &&
    isHighSurrogate(hashKey.charCodeAt(hashKey.length - 1)) &&
    isLowSurrogate(rangeKey.charCodeAt(0))
  )
    return db.hashPrefix(hashKey, hashType, rangeKey, rangeType);
  return md5Hex(`Outliers${hashKey}${rangeKey}`).slice(0, 6);
}

/** dynalite's `toRangeStr` for a key value of a known type. */
function rangeString(value: string, type: KeyType): string {
  if (type === 'S') return Buffer.from(value, 'utf8').toString('hex');
  return db.toRangeStr(value, type);
}

/** The key's attributes with their types (dynalite's `traverseKey`). */
function keyParts(table: TableDescription, keySchema: TableDescription['KeySchema']): KeyPart[] {
  return keySchema.map(({ AttributeName }) => ({
    name: AttributeName,
    type: table.AttributeDefinitions.find((definition) => definition.AttributeName === AttributeName)
      ?.AttributeType as KeyType,
  }));
}

const valueOf = (item: WireItem, part: KeyPart): string =>
  (item[part.name] as Record<string, string> | undefined)![part.type]!;

/** dynalite's `createKey`: hash prefix, then each key value as a range string, `/` after each. */
export function createKey(item: WireItem, table: TableDescription, keySchema = table.KeySchema): string {
  return keyOf(item, keyParts(table, keySchema));
}

function keyOf(item: WireItem, parts: readonly KeyPart[]): string {
  const [hashPart, ...rangeParts] = parts;
  const hashValue = valueOf(item, hashPart!);
  let key = `${hashPrefix(hashValue, hashPart!.type)}/${rangeString(hashValue, hashPart!.type)}/`;
  for (const part of rangeParts) key += `${rangeString(valueOf(item, part), part.type)}/`;
  return key;
}

/** dynalite's `createIndexKey`: the index's key, then the hash prefix of the table's key values. */
function indexKeyOf(item: WireItem, indexParts: readonly KeyPart[], tableParts: readonly KeyPart[]): string {
  const [hashPart, rangePart] = tableParts;
  return (
    keyOf(item, indexParts) +
    hashPrefix(
      valueOf(item, hashPart!),
      hashPart!.type,
      rangePart ? valueOf(item, rangePart) : undefined,
      rangePart?.type,
    )
  );
}

export interface IndexActions {
  puts: { index: string; key: string; item: WireItem }[];
  deletes: { index: string; key: string }[];
}

/** dynalite's `getIndexActions`: the entries a write puts into and deletes from each of `indexes`. */
export function getIndexActions(
  indexes: IndexDescription[],
  existingItem: WireItem | undefined | null,
  item: WireItem | undefined | null,
  table: TableDescription,
): IndexActions {
  const puts: IndexActions['puts'] = [];
  const deletes: IndexActions['deletes'] = [];
  const tableParts = keyParts(table, table.KeySchema);
  for (const index of indexes) {
    const indexParts = keyParts(table, index.KeySchema);
    let key: string | null = null;
    if (item && indexParts.every((part) => item[part.name] != null)) {
      let entry = item;
      if (index.Projection.ProjectionType !== 'ALL') {
        entry = Object.create(null) as WireItem;
        const names = [
          ...indexParts.map((part) => part.name),
          ...tableParts.map((part) => part.name),
          ...(index.Projection.NonKeyAttributes ?? []),
        ];
        for (const name of names) entry[name] = item[name] as WireValue;
      }
      key = indexKeyOf(entry, indexParts, tableParts);
      puts.push({ index: index.IndexName, key, item: entry });
    }
    if (existingItem && indexParts.every((part) => existingItem[part.name] != null)) {
      const existingKey = indexKeyOf(existingItem, indexParts, tableParts);
      if (existingKey !== key) deletes.push({ index: index.IndexName, key: existingKey });
    }
  }
  return { puts, deletes };
}
