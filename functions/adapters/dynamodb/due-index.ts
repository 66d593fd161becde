/** DueIndex and DmsDevices on the single table: the sparse due-by-time index, and a DMS's entry partitions. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DmsDevices, DueIndex } from '../../app/ports';
import { policyFence } from './device-writes';
import { lostRace } from './device-store';
import type { DeviceTable } from './device-table';
import { deviceKey, dueAttributes, duePartition, dueUpTo, entryPartition, entryPrefix } from './keys';
import { entryPageById } from './list-cursor';
import { DUE_INDEX } from './schema';

/** The boundary of the first due-index entry (its sort key is `<boundary ISO>#<id>`). */
function firstDueOf(items: Record<string, unknown>[]): number | undefined {
  const first = items[0]?.[DUE_INDEX.sortKey];
  return first === undefined ? undefined : Date.parse(String(first).split('#')[0]!);
}

export function dueIndex({ client, TableName, ctx, reader, hydrate }: DeviceTable): DueIndex {
  const { dueShards } = ctx;
  return {
    dueShards,

    async firstDue(shard, now) {
      const out = await reader.query({
        IndexName: DUE_INDEX.name,
        KeyConditionExpression: '#p = :p AND #s <= :upTo',
        ExpressionAttributeNames: { '#p': DUE_INDEX.partitionKey, '#s': DUE_INDEX.sortKey },
        ExpressionAttributeValues: { ':p': duePartition(shard), ':upTo': dueUpTo(now) },
        Limit: 1,
      });
      return firstDueOf(out.Items ?? []);
    },

    async dueDevices(shard, now, limit, after) {
      const out = await reader.query({
        IndexName: DUE_INDEX.name,
        KeyConditionExpression:
          after === undefined ? '#p = :p AND #s <= :upTo' : '#p = :p AND #s BETWEEN :after AND :upTo',
        ExpressionAttributeNames: { '#p': DUE_INDEX.partitionKey, '#s': DUE_INDEX.sortKey },
        // BETWEEN is inclusive: appending a character past every id makes `after` itself excluded.
        ExpressionAttributeValues: {
          ':p': duePartition(shard),
          ':upTo': dueUpTo(now),
          ...(after === undefined ? {} : { ':after': `${after}\u0000` }),
        },
        Limit: limit,
      });
      const items = out.Items ?? [];
      return {
        devices: await hydrate(items),
        next: out.LastEvaluatedKey ? String(items.at(-1)?.[DUE_INDEX.sortKey]) : undefined,
        firstDue: firstDueOf(items),
      };
    },

    async setDue(id, version, due, policy) {
      const attrs = due === null ? undefined : dueAttributes(id, due, dueShards);
      const fence = policy ? policyFence(policy) : undefined;
      const sets = [...(attrs ? ['due_pk = :dp', 'due_sk = :ds'] : []), ...(fence ? [fence.set] : [])];
      const remove = attrs ? '' : 'REMOVE due_pk, due_sk';
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: deviceKey(id),
            UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', remove].filter(Boolean).join(' '),
            ConditionExpression: `#version = :v${fence ? ` AND ${fence.condition}` : ''}`,
            ExpressionAttributeNames: { '#version': 'version', ...fence?.names },
            ExpressionAttributeValues: {
              ':v': version,
              ...(attrs ? { ':dp': attrs.due_pk, ':ds': attrs.due_sk } : {}),
              ...fence?.values,
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw await lostRace({ client, TableName }, id, version, policy, error);
        throw error;
      }
    },
  };
}

export function dmsDevices({ ctx, reader, hydrate }: DeviceTable): DmsDevices {
  return {
    listShards: ctx.listShards,

    async devicesOfDms(dms, shard, limit, after) {
      const partition = entryPartition(entryPrefix({ kind: 'DMS', value: dms }), shard);
      const { items, next } = await entryPageById(reader, partition, limit, after);
      return { devices: await hydrate(items), next };
    },
  };
}
