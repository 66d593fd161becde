/**
 * Indexed keys (metadata keys and the expiry forecast) and their back-fill. Every change keeps the
 * configured keys up to date for the device it writes; a key added to a table with data is
 * back-filled by the sweeper: a walk of every device (the all-devices entry partitions, by id), one
 * conditional transaction per device not yet indexed for the key, progress recorded per shard so a
 * walk spans runs. The key is `ready` (used as an index and a counter) once the walk is done.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BackfillReport } from '../../app/ports';
import { CERT_ENTRIES_KEY, FORECAST_KEY, HOLDERS_KEY, INVENTORY_KEY, PSEUDO_KEYS } from './counters';
import { isIndexedFor, reindexTransaction, type WriteContext } from './device-writes';
import { entryPageById, idOfEntry, type TableReader } from './list-cursor';
import { entryPartition, entryPrefix, INDEX_STATE_PK, indexStateKey, metadataStatsPartition } from './keys';
import type { MetadataRanks } from './metadata-ranks';
import { withSlotProfiles } from './slot-profiles';
import { cancellationCodes, transactWrite } from './transact';

interface KeyState {
  key: string;
  state: 'filling' | 'ready';
  /** Per list shard: the last id indexed, or 'done'. */
  progress: Record<string, string>;
}

/** How long the set of ready keys is cached: a key becomes ready once, so staleness only delays its use. */
const READY_CACHE_MS = 15_000;

export interface IndexState {
  /** Configured keys whose back-fill is done. */
  ready(): Promise<Set<string>>;
  /** Ready metadata keys whose ranked values are built (metadata-ranks.ts): their distribution reads `limit` values. */
  ranked(): Promise<Set<string>>;
  backfill(deadline: number, pageSize: number): Promise<BackfillReport>;
}

/**
 * The state item of a key's ranked values. Keys indexed before ranked values existed have counters
 * but no ranked items: the back-fill walks their value counters once, refreshing each value.
 */
const rankStateName = (key: string) => `@ranks:${key}`;

export function indexState(
  client: DynamoDBDocumentClient,
  reader: TableReader,
  ctx: WriteContext,
  ranks: Pick<MetadataRanks, 'refresh'>,
  now: () => number = Date.now,
): IndexState {
  const { TableName } = ctx;
  let cache: { at: number; ready: Set<string>; ranked: Set<string> } | undefined;

  async function states(): Promise<Map<string, KeyState>> {
    const out = await client.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': INDEX_STATE_PK },
        ConsistentRead: true,
      }),
    );
    return new Map(
      (out.Items ?? []).map((item) => [
        String(item.key),
        {
          key: String(item.key),
          state: item.state as KeyState['state'],
          progress: (item.progress as Record<string, string>) ?? {},
        },
      ]),
    );
  }

  async function saveState(state: KeyState, expected?: KeyState): Promise<boolean> {
    try {
      await client.send(
        new PutCommand({
          TableName,
          Item: { ...indexStateKey(state.key), kind: 'index-state', ...state },
          ...(expected
            ? {
                ConditionExpression: '#state = :s',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':s': expected.state },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Indexes one device for `key` unless a change did it first (it then carries the key in its marker). */
  async function reindex(id: string, key: string): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const device = (await reader.devices([id], true)).get(id);
      if (!device || isIndexedFor(device, key)) return false;
      // A device the inventory has not reached yet gets both at once (the inventory brings its entry along).
      const as =
        (key === CERT_ENTRIES_KEY || key === HOLDERS_KEY) &&
        ctx.indexedKeys.has(INVENTORY_KEY) &&
        !isIndexedFor(device, INVENTORY_KEY)
          ? INVENTORY_KEY
          : key;
      const completed = as === INVENTORY_KEY ? await withSlotProfiles(client, TableName, device) : undefined;
      try {
        await transactWrite(client, reindexTransaction(ctx, device, as, completed));
        return true;
      } catch (error) {
        if (cancellationCodes(error)?.[0] !== 'ConditionalCheckFailed') throw error;
      }
    }
    return false;
  }

  async function cached() {
    if (cache && now() - cache.at < READY_CACHE_MS) return cache;
    const all = await states();
    const ready = new Set([...ctx.indexedKeys].filter((k) => all.get(k)?.state === 'ready'));
    const ranked = new Set([...ready].filter((k) => all.get(rankStateName(k))?.state === 'ready'));
    cache = { at: now(), ready, ranked };
    return cache;
  }

  /** Walks the value counters of one key, refreshing each value's ranked item; false when the deadline stopped it. */
  async function buildRanks(key: string, state: KeyState, deadline: number, pageSize: number): Promise<boolean> {
    const progress = { ...state.progress };
    for (let shard = 0; shard < ctx.statsShards; shard++) {
      while (progress[shard] !== 'done') {
        if (Date.now() >= deadline) {
          await saveState({ ...state, progress }, state);
          return false;
        }
        const pk = metadataStatsPartition(key, shard);
        const after = progress[shard];
        const out = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ExclusiveStartKey: after === undefined ? undefined : { pk, sk: after },
            Limit: pageSize,
            ConsistentRead: true,
          }),
        );
        const items = out.Items ?? [];
        await ranks.refresh(items.map((item) => ({ key, text: String(item.v) })));
        progress[shard] = out.LastEvaluatedKey ? String(items.at(-1)?.sk) : 'done';
        await saveState({ ...state, progress }, state);
      }
    }
    await saveState({ key: state.key, state: 'ready', progress }, state);
    return true;
  }

  return {
    async ready() {
      return (await cached()).ready;
    },

    async ranked() {
      return (await cached()).ranked;
    },

    async backfill(deadline, pageSize) {
      const report: BackfillReport = { indexed: 0, complete: true };
      const all = await states();
      for (const key of [...ctx.indexedKeys].sort((a, b) =>
        a === FORECAST_KEY ? -1 : b === FORECAST_KEY ? 1 : a.localeCompare(b),
      )) {
        let state = all.get(key);
        if (state?.state === 'ready') continue;
        if (!state) {
          state = { key, state: 'filling', progress: {} };
          if (!(await saveState(state))) continue;
        }
        const progress = { ...state.progress };
        for (let shard = 0; shard < ctx.listShards; shard++) {
          while (progress[shard] !== 'done') {
            if (Date.now() >= deadline) {
              report.complete = false;
              await saveState({ ...state, progress }, state);
              return report;
            }
            const partition = entryPartition(entryPrefix({ kind: 'ALL' }), shard);
            const page = await entryPageById(reader, partition, pageSize, progress[shard]);
            for (const item of page.items) if (await reindex(idOfEntry(item), key)) report.indexed++;
            progress[shard] = page.next ?? 'done';
            await saveState({ ...state, progress }, state);
          }
        }
        await saveState({ key, state: 'ready', progress }, state);
        all.set(key, { key, state: 'ready', progress });
        cache = undefined;
      }
      for (const key of [...ctx.indexedKeys].filter((k) => !PSEUDO_KEYS.includes(k)).sort()) {
        const name = rankStateName(key);
        let state = all.get(name);
        if (state?.state === 'ready' || all.get(key)?.state !== 'ready') continue;
        if (!state) {
          state = { key: name, state: 'filling', progress: {} };
          if (!(await saveState(state))) continue;
        }
        if (!(await buildRanks(key, state, deadline, pageSize))) {
          report.complete = false;
          return report;
        }
        cache = undefined;
      }
      return report;
    },
  };
}
