/** DeviceStore and SlotVersionStore on the single table: a device read whole, a change written as one transaction. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeviceStore, SlotVersionRef, SlotVersionStore } from '../../app/ports';
import {
  DeviceAlreadyExistsError,
  JobOutcomeExistsError,
  PolicyMovedError,
  VersionConflictError,
} from '../../domain/errors';
import { INVENTORY_KEY } from './counters';
import { deviceTransaction, isIndexedFor, isReadFromTable, parseDeviceItem } from './device-writes';
import { withSlotProfiles } from './slot-profiles';
import { parseVersionItem, storedVersionCondition, versionItem } from './slot-version-item';
import type { DeviceTable } from './device-table';
import { deviceKey, parseSlotVersionKey, slotVersionKey } from './keys';
import { outboxBatch } from './outbox';
import { SERIAL_INDEX } from './schema';
import { cancellationCodes, transactWrite } from './transact';

/**
 * Why a conditional device write failed: a device still at the version read failed the policy fence
 * (a newer policy evaluated it meanwhile: recompute, never the client's 412); else the version (or
 * the marker) moved.
 */
export async function lostRace(
  { client, TableName }: Pick<DeviceTable, 'client' | 'TableName'>,
  id: string,
  version: number,
  policy: unknown,
  cause: unknown,
): Promise<Error> {
  if (policy) {
    const out = await client.send(
      new GetCommand({
        TableName,
        Key: deviceKey(id),
        ConsistentRead: true,
        ProjectionExpression: '#v',
        ExpressionAttributeNames: { '#v': 'version' },
      }),
    );
    if (out.Item?.version === version) return new PolicyMovedError(id, { cause });
  }
  return new VersionConflictError(id, { cause });
}

export function deviceStore({ client, TableName, ctx, countRead, reader }: DeviceTable): DeviceStore {
  return {
    async get(id) {
      const out = await client.send(new GetCommand({ TableName, Key: deviceKey(id), ConsistentRead: true }));
      if (out.Item) countRead();
      return out.Item ? parseDeviceItem(out.Item) : undefined;
    },

    // BatchGetItem: a server-side import reads the devices a batch met at once, not one GetItem a row.
    getMany: (ids) => reader.devices(ids, true),

    async save(proposed) {
      let change = proposed;
      // A device stored before crypto profiles gets its slots' profiles at its first change: the change
      // indexes it for the inventory (its marker gains the key), so the back-fill will not come back to it.
      const { before } = change;
      if (before && isReadFromTable(before) && !isIndexedFor(before, INVENTORY_KEY)) {
        const completed = await withSlotProfiles(client, TableName, change.after);
        if (completed) change = { ...change, after: completed };
      }
      try {
        await transactWrite(client, deviceTransaction(ctx, change));
      } catch (error) {
        // The device write is first: its condition holds the version, the marker and the policy fence.
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') {
          if (!change.before) throw new DeviceAlreadyExistsError(change.after.id, { cause: error });
          throw await lostRace(
            { client, TableName },
            change.after.id,
            change.before.version,
            change.policy ?? change.posture,
            error,
          );
        }
        // A job's outcome is second (device-writes.ts): the job handled this device already.
        if (change.jobOutcome && codes?.[1] === 'ConditionalCheckFailed')
          throw new JobOutcomeExistsError(change.jobOutcome.job_id, change.after.id, { cause: error });
        throw error;
      }
    },

    async saveNew(changes) {
      // Devices go together while their items fit one transaction (DynamoDB: at most 100 items); their
      // events share outbox records (outboxBatch), the same events as one record a change would hold.
      const groups: { ids: string[]; items: TransactItem[]; outbox: ReturnType<typeof outboxBatch> }[] = [];
      for (const change of changes) {
        const items = deviceTransaction(ctx, { ...change, outbox: [] }).TransactItems;
        let last = groups.at(-1);
        const encoded = (last?.outbox ?? outboxBatch()).encode(change.outbox);
        if (!last || last.items.length + items.length + last.outbox.recordsWith(encoded) > MAX_TRANSACTION_ITEMS) {
          last = { ids: [], items: [], outbox: outboxBatch() };
          groups.push(last);
        }
        last.ids.push(change.after.id);
        last.items.push(...items);
        last.outbox.add(encoded);
      }
      const created: string[] = [];
      const refused: string[] = [];
      await Promise.all(
        groups.map(async ({ ids, items, outbox }) => {
          try {
            await transactWrite(client, {
              TransactItems: [...items, ...outbox.puts(TableName, ctx.outboxTtlSeconds)],
            });
            created.push(...ids);
          } catch (error) {
            // A device that exists cancels its whole transaction: none of its devices was written.
            if (!cancellationCodes(error)?.includes('ConditionalCheckFailed')) throw error;
            refused.push(...ids);
          }
        }),
      );
      return { created, refused };
    },
  };
}

type TransactItem = ReturnType<typeof deviceTransaction>['TransactItems'][number];

/** DynamoDB's limit of actions in one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

export function slotVersionStore({ client, TableName, reader, countRead }: DeviceTable): SlotVersionStore {
  return {
    async getSlotVersion(id, slot, version) {
      const out = await client.send(
        new GetCommand({ TableName, Key: slotVersionKey(id, slot, version), ConsistentRead: true }),
      );
      if (out.Item) countRead();
      return out.Item ? parseVersionItem(out.Item) : undefined;
    },

    async findSlotVersionsBySerial(serial) {
      const found: SlotVersionRef[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await reader.query({
          IndexName: SERIAL_INDEX.name,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': SERIAL_INDEX.partitionKey },
          ExpressionAttributeValues: { ':s': serial },
          ExclusiveStartKey: startKey,
        });
        for (const item of out.Items ?? []) {
          const ref = parseSlotVersionKey(item);
          if (ref) found.push(ref);
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return found;
    },

    async saveSlotVersion(version, previous) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: versionItem(version),
            // The whole stored version as read: any change since it was read is a conflict.
            ...storedVersionCondition(previous),
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new VersionConflictError(`${version.device_id}/${version.slot}/${version.version}`, { cause: error });
        throw error;
      }
    },
  };
}
