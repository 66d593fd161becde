/**
 * ConnectivityStore on the single table: one item per device (`DEVICE#<id>` / `CONNECTIVITY`), written by
 * the presence function only, never part of a device transaction (no version bump, no event). The item is
 * also the device's entry in `CONN#<connected>#<shard>` (sorted by creation and by id like every entry; its
 * `esk_exp` is `<last_seen>#<id>`, so the disconnected devices are read by how long ago they were seen)
 * and carries the device's status as of its last write (`st`).
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectivityStore, PresenceTarget } from '../../app/ports';
import type { StoredConnectivity } from '../../domain/connectivity';
import { connectivityKey, deviceKey, entryPartition, entryPrefix, shardOf } from './keys';
import { INDEXES, STATUS_ATTRIBUTE } from './schema';

export const CONNECTIVITY_KIND = 'connectivity';

export function connectivityStore({
  client,
  tableName: TableName,
  listShards,
}: {
  client: DynamoDBDocumentClient;
  tableName: string;
  listShards: number;
}): ConnectivityStore {
  return {
    async get(deviceId) {
      const out = await client.send(
        new GetCommand({ TableName, Key: connectivityKey(deviceId), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      const { connected, since, last_seen, event_ms, written_ms } = out.Item as StoredConnectivity;
      return { connected, since, last_seen, event_ms, written_ms };
    },

    async target(deviceId) {
      const out = await client.send(
        new GetCommand({
          TableName,
          Key: deviceKey(deviceId),
          ProjectionExpression: 'esk_created, esk_id, #st',
          ExpressionAttributeNames: { '#st': STATUS_ATTRIBUTE },
        }),
      );
      if (!out.Item) return undefined;
      return {
        id: deviceId,
        created: String(out.Item.esk_created),
        status: String(out.Item[STATUS_ATTRIBUTE]),
      } satisfies PresenceTarget;
    },

    async put(target, next, previous) {
      const shard = shardOf(target.id, listShards);
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...connectivityKey(target.id),
              kind: CONNECTIVITY_KIND,
              ...next,
              epk: entryPartition(entryPrefix({ kind: 'CONN', value: next.connected ? 'true' : 'false' }), shard),
              esk_created: target.created,
              esk_id: target.id,
              esk_exp: `${next.last_seen}#${target.id}`,
              [STATUS_ATTRIBUTE]: target.status,
            },
            // Another write of the same device since the read (two batches of one client): the caller decides again.
            ConditionExpression: previous ? 'written_ms = :w' : 'attribute_not_exists(pk)',
            ...(previous ? { ExpressionAttributeValues: { ':w': previous.written_ms } } : {}),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },

    async countNotSeenSince(cutoff, statuses) {
      let count = 0;
      const prefix = entryPrefix({ kind: 'CONN', value: 'false' });
      await Promise.all(
        Array.from({ length: listShards }, async (_, shard) => {
          let start: Record<string, unknown> | undefined;
          do {
            const out = await client.send(
              new QueryCommand({
                TableName,
                IndexName: INDEXES.byExpiration.name,
                KeyConditionExpression: 'epk = :p AND esk_exp < :cutoff',
                FilterExpression: `#st IN (${statuses.map((_, i) => `:s${i}`).join(', ')})`,
                ExpressionAttributeNames: { '#st': STATUS_ATTRIBUTE },
                ExpressionAttributeValues: {
                  ':p': entryPartition(prefix, shard),
                  ':cutoff': cutoff,
                  ...Object.fromEntries(statuses.map((s, i) => [`:s${i}`, s])),
                },
                Select: 'COUNT',
                ExclusiveStartKey: start,
              }),
            );
            count += out.Count ?? 0;
            start = out.LastEvaluatedKey;
          } while (start);
        }),
      );
      return count;
    },
  };
}
