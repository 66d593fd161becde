/**
 * The sweeper's port over the table: segments are the shards of the due index and of a DMS's
 * entries (named by their number), so app/sweep.ts never counts shards; the run marker is one item.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeviceRepository, SweepIndex } from '../../app/ports';
import { SWEEP_RUN_KEY } from './keys';

export interface SweepIndexOptions {
  repository: Pick<
    DeviceRepository,
    'dueDevices' | 'firstDue' | 'devicesOfDms' | 'backfillIndexes' | 'dueShards' | 'listShards'
  >;
  client: DynamoDBDocumentClient;
  tableName: string;
}

const numbered = (count: number) => Array.from({ length: count }, (_, shard) => String(shard));

/** A segment name back to its shard; a name this deployment does not have is a programming error. */
function shardOf(segment: string, count: number): number {
  const shard = Number(segment);
  if (!Number.isInteger(shard) || shard < 0 || shard >= count) throw new RangeError(`no segment '${segment}'`);
  return shard;
}

export function sweepIndex({ repository, client, tableName: TableName }: SweepIndexOptions): SweepIndex {
  return {
    dueSegments: numbered(repository.dueShards),
    dmsSegments: numbered(repository.listShards),
    dueDevices: (segment, now, limit, after) =>
      repository.dueDevices(shardOf(segment, repository.dueShards), now, limit, after),
    firstDue: (segment, now) => repository.firstDue(shardOf(segment, repository.dueShards), now),
    devicesOfDms: (dms, segment, limit, after) =>
      repository.devicesOfDms(dms, shardOf(segment, repository.listShards), limit, after),
    backfillIndexes: (deadline, pageSize) => repository.backfillIndexes(deadline, pageSize),

    async beginRun(run) {
      // The latest dispatch wins: an older run's chains stop, the new run starts from what is still due.
      await client.send(new PutCommand({ TableName, Item: { ...SWEEP_RUN_KEY, kind: 'sweep-run', run } }));
    },

    async currentRun() {
      const out = await client.send(new GetCommand({ TableName, Key: SWEEP_RUN_KEY, ConsistentRead: true }));
      return typeof out.Item?.run === 'string' ? out.Item.run : undefined;
    },
  };
}
