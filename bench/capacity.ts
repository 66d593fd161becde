/**
 * DynamoDB's published capacity rules, applied to the requests the service really sends: a recording
 * wrapper around the document client reads each written item before and after the write (through an
 * unrecorded client) and bills it as on-demand DynamoDB would.
 *
 * Writes: 1 write unit per started KB of the larger of the old and new item; ×2 in a transaction
 * (ConditionCheck included). Each GSI: its projected item (table keys + index keys + projected
 * attributes + 100 bytes of index overhead) is written when it appears, disappears (delete), changes
 * index keys (delete + put) or changes a projected attribute; standard writes (not doubled).
 * Reads: 1 read unit per started 4 KB (Query: of the page's summed item sizes; GetItem/BatchGetItem:
 * per item); eventually consistent reads cost half.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ALL_INDEXES, PARTITION_KEY, SORT_KEY, type IndexDefinition } from '../functions/adapters/dynamodb/schema';

type Item = Record<string, unknown>;

/** DynamoDB's item size: attribute names plus values (numbers ≈ 1 byte per 2 digits + 1). */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);
}

function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  // Binary (B): its length in bytes.
  if (v instanceof Uint8Array) return v.byteLength;
  if (typeof v === 'number')
    return Math.ceil(String(Math.abs(v)).replace(/[.-]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (v instanceof Set) return [...v].reduce((n: number, e) => n + valueSize(e), 0);
  if (Array.isArray(v)) return 3 + v.reduce((n: number, e) => n + 1 + valueSize(e), 0);
  if (typeof v === 'object')
    return 3 + Object.entries(v as Item).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSize(e), 0);
  return 8;
}

const units = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));

/** The item an index holds for a table item, or undefined when the item is not in that index (sparse). */
function projected(index: IndexDefinition, item: Item | undefined): Item | undefined {
  if (!item || item[index.partitionKey] === undefined || item[index.sortKey] === undefined) return undefined;
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL') return item;
  const keep = new Set([
    PARTITION_KEY,
    SORT_KEY,
    index.partitionKey,
    index.sortKey,
    ...(projection === 'INCLUDE' ? (index.include ?? []) : []),
  ]);
  return Object.fromEntries(Object.entries(item).filter(([k]) => keep.has(k)));
}

function indexWrites(index: IndexDefinition, before: Item | undefined, after: Item | undefined): number {
  const old = projected(index, before);
  const next = projected(index, after);
  const size = (p: Item) => units(itemSize(p) + 100, 1024);
  if (!old && !next) return 0;
  if (!old) return size(next!);
  if (!next) return size(old);
  const moved = old[index.partitionKey] !== next[index.partitionKey] || old[index.sortKey] !== next[index.sortKey];
  if (moved) return size(old) + size(next);
  return JSON.stringify(old) === JSON.stringify(next) ? 0 : size(next);
}

export interface CapacityMeter {
  wcu: number;
  rcu: number;
  /** Write actions sent (items written or checked). */
  actions: number;
  /** Largest number of actions in one transaction. */
  maxTransaction: number;
  reset(): void;
}

interface Target {
  key: Item;
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  transactional: boolean;
}

function keyOf(item: Item): Item {
  return { [PARTITION_KEY]: item[PARTITION_KEY], [SORT_KEY]: item[SORT_KEY] };
}

function targetsOf(name: string, input: Record<string, unknown>): Target[] {
  if (name === 'TransactWriteCommand') {
    return (input.TransactItems as Record<string, Record<string, Item>>[]).map((action) => {
      const [kind, body] = Object.entries(action)[0]! as [Target['kind'], Record<string, Item>];
      return { kind, key: kind === 'Put' ? keyOf(body.Item!) : body.Key!, transactional: true };
    });
  }
  if (name === 'PutCommand') return [{ kind: 'Put', key: keyOf(input.Item as Item), transactional: false }];
  if (name === 'UpdateCommand') return [{ kind: 'Update', key: input.Key as Item, transactional: false }];
  if (name === 'DeleteCommand') return [{ kind: 'Delete', key: input.Key as Item, transactional: false }];
  if (name === 'BatchWriteCommand') {
    return Object.values(input.RequestItems as Record<string, Record<string, Record<string, Item>>[]>).flatMap(
      (requests) =>
        requests.map((r) =>
          r.PutRequest
            ? { kind: 'Put' as const, key: keyOf(r.PutRequest.Item!), transactional: false }
            : { kind: 'Delete' as const, key: r.DeleteRequest!.Key!, transactional: false },
        ),
    );
  }
  return [];
}

function readUnits(name: string, input: Record<string, unknown>, output: Record<string, unknown>): number {
  const factor = (consistent: unknown) => (consistent === true ? 1 : 0.5);
  if (name === 'GetCommand')
    return units(itemSize(output.Item as Item | undefined), 4096) * factor(input.ConsistentRead);
  if (name === 'QueryCommand')
    return (
      units(
        ((output.Items as Item[] | undefined) ?? []).reduce((n, i) => n + itemSize(i), 0),
        4096,
      ) * factor(input.ConsistentRead)
    );
  if (name === 'BatchGetCommand') {
    const requests = input.RequestItems as Record<string, { ConsistentRead?: boolean }>;
    return Object.entries((output.Responses as Record<string, Item[]> | undefined) ?? {}).reduce(
      (n, [table, items]) =>
        n + items.reduce((m, i) => m + units(itemSize(i), 4096) * factor(requests[table]?.ConsistentRead), 0),
      0,
    );
  }
  return 0;
}

/**
 * Wraps `client.send` so every request is billed on the returned meter. `raw` reads item images
 * without being billed; `tableName` is the table the service writes.
 */
export function meterClient(
  client: DynamoDBDocumentClient,
  raw: DynamoDBDocumentClient,
  tableName: string,
  indexes: IndexDefinition[] = ALL_INDEXES,
): CapacityMeter {
  const meter: CapacityMeter = {
    wcu: 0,
    rcu: 0,
    actions: 0,
    maxTransaction: 0,
    reset() {
      meter.wcu = 0;
      meter.rcu = 0;
      meter.actions = 0;
      meter.maxTransaction = 0;
    },
  };
  const send = client.send.bind(client) as (command: unknown) => Promise<Record<string, unknown>>;
  const image = async (key: Item) =>
    (await raw.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
  (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
    const name = (command as object).constructor.name;
    const input = (command as { input: Record<string, unknown> }).input;
    const targets = targetsOf(name, input);
    if (targets.length === 0) {
      const output = await send(command);
      const rcu = readUnits(name, input, output);
      meter.rcu += rcu;
      if (process.env.BENCH_DEBUG)
        console.log(
          `  ${name} ${String(input.IndexName ?? '')}: ${rcu} RCU, ${((output.Items as unknown[]) ?? []).length} items`,
        );
      return output;
    }
    const before = await Promise.all(targets.map((t) => image(t.key)));
    const output = await send(command);
    const after = await Promise.all(targets.map((t) => image(t.key)));
    meter.actions += targets.length;
    if (name === 'TransactWriteCommand') meter.maxTransaction = Math.max(meter.maxTransaction, targets.length);
    targets.forEach((t, i) => {
      const factor = t.transactional ? 2 : 1;
      const table = units(Math.max(itemSize(before[i]), itemSize(after[i])), 1024) * factor;
      const gsi =
        t.kind === 'ConditionCheck' ? 0 : indexes.reduce((n, index) => n + indexWrites(index, before[i], after[i]), 0);
      meter.wcu += table + gsi;
      if (process.env.BENCH_DEBUG)
        console.log(
          `  ${t.kind} ${String(t.key[PARTITION_KEY])} ${String(t.key[SORT_KEY])}: ` +
            `table ${table}, indexes ${gsi} (${Math.max(itemSize(before[i]), itemSize(after[i]))} ` +
            `B)`,
        );
    });
    return output;
  };
  return meter;
}
