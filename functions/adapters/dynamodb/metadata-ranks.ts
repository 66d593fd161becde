/**
 * Ranked metadata values: the distribution of an indexed key reads only the `limit` most common values.
 *
 * The value counters are sharded (`MSTATS#<key>#<shard>`, one item per value and shard), so ranking
 * them means reading every value. Each value also has one ranked item (keys.ts `metadataRankKey`)
 * holding the sum of its shards and its place in the `entry-by-id` index, and each key a total.
 * Ranked items are derived, never added to: a refresh reads the ranked items (their version `rv`),
 * then the shards, and writes the sums conditioned on the version it read, with the change of each
 * total added to the key's total in the same transaction. A refresh that lost a race reads again.
 * Because the shards are read after the version, a refresh that wins saw every shard write made
 * before its version read, and a shard write made later is followed by its own refresh: the last
 * refresh always leaves the sums of the shards. The counter applier refreshes the values of every
 * batch it applies (also a redelivered one), so a crash between the two leaves nothing stale.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MetadataValueStats, StatusDistribution, TopMetadataValues } from '../../app/ports';
import { DEVICE_STATUSES } from '../../domain/device';
import { byTotalThenValue } from '../../domain/insights';
import { emptyDistribution, STATUS_ATTR, totalOf } from './counters';
import {
  metadataRankKey,
  metadataRankPartition,
  metadataRankSort,
  metadataStatsKey,
  metadataTotalKey,
  type TableKey,
} from './keys';
import { INDEXES } from './schema';
import { cancellationCodes, transactWrite } from './transact';

type Item = Record<string, unknown>;

/** One value of one indexed key. */
export interface RankedValue {
  key: string;
  text: string;
}

/** A refresh that keeps losing races gives up (the next batch or walk refreshes again). */
const REFRESH_ATTEMPTS = 10;
const BATCH_GET_KEYS = 100;

const idOf = (key: TableKey) => `${key.pk}\u0000${key.sk}`;

function distributionOf(item: Item | undefined): StatusDistribution {
  const distribution = emptyDistribution();
  for (const status of DEVICE_STATUSES) distribution[status] += Number(item?.[STATUS_ATTR(status)] ?? 0);
  return distribution;
}

export function metadataRanks(
  client: DynamoDBDocumentClient,
  TableName: string,
  statsShards: number,
  onRead: (items: number) => void,
) {
  /** Items by key id, consistent reads (a refresh acts on them), unprocessed keys sent again. */
  async function batchGet(keys: readonly TableKey[], consistent: boolean): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
      let request: Record<string, { Keys: Item[]; ConsistentRead?: boolean }> | undefined = {
        [TableName]: { Keys: keys.slice(i, i + BATCH_GET_KEYS).map((k) => ({ ...k })), ConsistentRead: consistent },
      };
      while (request && Object.keys(request).length > 0) {
        const out = await client.send(new BatchGetCommand({ RequestItems: request }));
        const items = out.Responses?.[TableName] ?? [];
        onRead(items.length);
        for (const item of items) found.set(idOf({ pk: String(item.pk), sk: String(item.sk) }), item);
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  /** One refresh attempt of a group; false when a condition failed (another refresh won a race). */
  async function refreshGroup(values: readonly RankedValue[]): Promise<boolean> {
    const ranked = await batchGet(
      values.map((v) => metadataRankKey(v.key, v.text)),
      true,
    );
    const shards = await batchGet(
      values.flatMap((v) => Array.from({ length: statsShards }, (_, s) => metadataStatsKey(v.key, s, v.text))),
      true,
    );
    const updates: Item[] = [];
    const keyTotals = new Map<string, number>();
    for (const { key, text } of values) {
      const before = ranked.get(idOf(metadataRankKey(key, text)));
      const distribution = emptyDistribution();
      for (let s = 0; s < statsShards; s++) {
        const shard = distributionOf(shards.get(idOf(metadataStatsKey(key, s, text))));
        for (const status of DEVICE_STATUSES) distribution[status] += shard[status];
      }
      const previous = distributionOf(before);
      if (before && DEVICE_STATUSES.every((s) => previous[s] === distribution[s])) continue;
      const total = totalOf(distribution);
      const change = total - totalOf(previous);
      if (change !== 0) keyTotals.set(key, (keyTotals.get(key) ?? 0) + change);
      const names: Record<string, string> = { '#rv': 'rv' };
      const sets = ['v = :v', '#rv = :next', '#kind = :kind'];
      names['#kind'] = 'kind';
      const attrs: Item = { ':v': text, ':next': Number(before?.rv ?? 0) + 1, ':kind': 'metadata-rank' };
      DEVICE_STATUSES.forEach((status, i) => {
        names[`#c${i}`] = STATUS_ATTR(status);
        attrs[`:c${i}`] = distribution[status];
        sets.push(`#c${i} = :c${i}`);
      });
      // A value no device holds leaves the index, so the Query of the most common values never meets it.
      if (total > 0) {
        sets.push(`#ip = :ip`, `#is = :is`);
        names['#ip'] = INDEXES.byId.partitionKey;
        names['#is'] = INDEXES.byId.sortKey;
        attrs[':ip'] = metadataRankPartition(key);
        attrs[':is'] = metadataRankSort(total, text);
      }
      if (before) attrs[':rv'] = Number(before.rv ?? 0);
      updates.push({
        Update: {
          TableName,
          Key: metadataRankKey(key, text),
          UpdateExpression:
            `SET ${sets.join(', ')}` +
            (total > 0 ? '' : ` REMOVE ${INDEXES.byId.partitionKey}, ${INDEXES.byId.sortKey}`),
          ConditionExpression: before ? '#rv = :rv' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: attrs,
        },
      });
    }
    if (updates.length === 0) return true;
    for (const [key, change] of keyTotals)
      updates.push({
        Update: {
          TableName,
          Key: metadataTotalKey(key),
          UpdateExpression: 'ADD #total :n SET #kind = :kind',
          ExpressionAttributeNames: { '#total': 'total', '#kind': 'kind' },
          ExpressionAttributeValues: { ':n': change, ':kind': 'metadata-total' },
        },
      });
    try {
      await transactWrite(client, { TransactItems: updates as never });
      return true;
    } catch (error) {
      if (cancellationCodes(error)?.some((code) => code === 'ConditionalCheckFailed')) return false;
      throw error;
    }
  }

  return {
    /** Brings the ranked items of `values` to the sums of their shards (duplicates allowed). */
    async refresh(values: readonly RankedValue[]): Promise<void> {
      const unique = [...new Map(values.map((v) => [idOf(metadataRankKey(v.key, v.text)), v])).values()];
      // Each group's shard reads fit one BatchGetItem; its writes one transaction (≤ 25 + 10 actions).
      const groupSize = Math.max(1, Math.min(25, Math.floor(BATCH_GET_KEYS / statsShards)));
      for (let i = 0; i < unique.length; i += groupSize) {
        const group = unique.slice(i, i + groupSize);
        let attempt = 0;
        while (!(await refreshGroup(group)))
          if (++attempt >= REFRESH_ATTEMPTS) throw new Error('metadata ranks kept changing during a refresh');
      }
    },

    /** The `limit` most common values of `key` and the devices holding any other: about 2 × limit + 1 items read. */
    async top(key: string, limit: number): Promise<TopMetadataValues> {
      const entries: Item[] = [];
      let startKey: Item | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName,
            IndexName: INDEXES.byId.name,
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': INDEXES.byId.partitionKey },
            ExpressionAttributeValues: { ':p': metadataRankPartition(key) },
            Limit: limit - entries.length,
            ExclusiveStartKey: startKey,
          }),
        );
        onRead(out.Items?.length ?? 0);
        entries.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
      } while (startKey && entries.length < limit);
      const [items, totalOut] = await Promise.all([
        batchGet(
          entries.map((e) => ({ pk: String(e.pk), sk: String(e.sk) })),
          false,
        ),
        client.send(new GetCommand({ TableName, Key: metadataTotalKey(key) })),
      ]);
      if (totalOut.Item) onRead(1);
      const values = [...items.values()]
        .map((item): MetadataValueStats => {
          const distribution = distributionOf(item);
          return { value: String(item.v), stats: { total: totalOf(distribution), status_distribution: distribution } };
        })
        .filter((v) => v.stats.total > 0)
        // The index orders by the rank written with the sums; a refresh in flight may leave it a step behind.
        .sort(byTotalThenValue);
      const shown = values.reduce((n, v) => n + v.stats.total, 0);
      return { values, other: Math.max(0, Number(totalOut.Item?.total ?? 0) - shown) };
    },
  };
}

export type MetadataRanks = ReturnType<typeof metadataRanks>;
