/**
 * DevicePurge on the single table: the hard delete of a DECOMMISSIONED device.
 *
 * How it finds what to delete: one strongly consistent Query of the device's partition
 * (`pk = DEVICE#<id>`, keys only). Every item there is deleted except the history kept for audit:
 * the event items (`sk` starting `EVENT#`) and the slot versions (`SLOT#`), which get a `ttl` of
 * `retentionDays` instead. It therefore follows any companion entry layout that keeps entries in
 * the device's own partition, without knowing their sort keys.
 *
 * Atomicity within DynamoDB's transaction limits (100 actions): the last transaction deletes the
 * device item (conditioned on its version) and writes the outbox record, with as many companion
 * deletes as fit. The counters follow from the stream: the device item's REMOVE record takes the
 * device out of every counter its old image is in (counter-applier.ts). A device
 * with more companions (more than ~95: it cannot happen with 50 tags at most) first has the rest
 * deleted in transactions that each re-check the device's version, so a concurrent change stops the
 * purge before the device item goes.
 */
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DevicePurge } from '../../app/ports';
import type { Device } from '../../domain/device';
import { VersionConflictError } from '../../domain/errors';
import { DEVICE_EVENT_PREFIX, deviceKey, type TableKey } from './keys';
import { OUTBOX_TTL_SECONDS, outboxPuts } from './outbox';
import { TTL_ATTRIBUTE } from './schema';
import { cancellationCodes, transactWrite } from './transact';

/** History kept after a purge: device events and stored slot versions (certificates). */
export const RETAINED_PREFIXES = [DEVICE_EVENT_PREFIX, 'SLOT#'] as const;
/** Default audit retention of a purged device's history. */
export const PURGE_RETENTION_DAYS = 400;

const MAX_TRANSACTION_ACTIONS = 100;

export interface DevicePurgeOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Unused since the counters follow the stream; kept so callers need not change. */
  statsShards?: number;
  retentionDays?: number;
  outboxTtlSeconds?: number;
  /** Concurrent ttl updates of the retained history. */
  concurrency?: number;
}

export function devicePurge({
  client,
  tableName: TableName,
  retentionDays = PURGE_RETENTION_DAYS,
  outboxTtlSeconds = OUTBOX_TTL_SECONDS,
  concurrency = 8,
}: DevicePurgeOptions): DevicePurge {
  /** The keys of the device's partition. */
  async function partition(id: string): Promise<{ keys: TableKey[] }> {
    const keys: TableKey[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': deviceKey(id).pk },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) keys.push({ pk: String(item.pk), sk: String(item.sk) });
      start = out.LastEvaluatedKey;
    } while (start);
    return { keys };
  }

  const versionCondition = (device: Device) => ({
    Key: deviceKey(device.id),
    ConditionExpression: '#version = :v',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':v': device.version },
  });

  async function send(device: Device, items: NonNullable<Parameters<typeof transactWrite>[1]['TransactItems']>) {
    try {
      await transactWrite(client, { TransactItems: items });
    } catch (error) {
      if (cancellationCodes(error)?.includes('ConditionalCheckFailed'))
        throw new VersionConflictError(device.id, { cause: error });
      throw error;
    }
  }

  /** Best effort: history that misses its ttl is only kept longer. */
  async function expire(keys: TableKey[], at: number) {
    for (let i = 0; i < keys.length; i += concurrency) {
      await Promise.all(
        keys.slice(i, i + concurrency).map((Key) =>
          client
            .send(
              new UpdateCommand({
                TableName,
                Key,
                UpdateExpression: 'SET #ttl = :t',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
                ExpressionAttributeValues: { ':t': at },
              }),
            )
            .catch(() => undefined),
        ),
      );
    }
  }

  return {
    async purge(device, outbox) {
      const { keys } = await partition(device.id);
      const deviceSk = deviceKey(device.id).sk;
      const retained = keys.filter((k) => RETAINED_PREFIXES.some((p) => k.sk.startsWith(p)));
      const companions = keys.filter((k) => k.sk !== deviceSk && !retained.includes(k));
      const final = [
        { Delete: { TableName, ...versionCondition(device) } },
        ...outboxPuts(TableName, outbox, outboxTtlSeconds),
      ];
      const room = MAX_TRANSACTION_ACTIONS - final.length;
      const early = companions.slice(0, Math.max(0, companions.length - room));
      for (let i = 0; i < early.length; i += MAX_TRANSACTION_ACTIONS - 1) {
        const chunk = early.slice(i, i + MAX_TRANSACTION_ACTIONS - 1);
        await send(device, [
          { ConditionCheck: { TableName, ...versionCondition(device) } },
          ...chunk.map((Key) => ({ Delete: { TableName, Key } })),
        ]);
      }
      await send(device, [...final, ...companions.slice(early.length).map((Key) => ({ Delete: { TableName, Key } }))]);
      const now = outbox[0] ? Date.parse(outbox[0].time) : Date.now();
      await expire(retained, Math.floor(now / 1000) + retentionDays * 86_400);
    },
  };
}
