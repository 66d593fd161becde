/**
 * IotSyncStateStore on the single table: one item per device (`pk = DEVICE#<id>`, `sk = IOT`), written
 * by the IoT sync only, never part of a device transaction (no version bump, no event).
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IotSyncState, IotSyncStateStore } from '../../app/ports';
import { iotSyncStateKey } from './keys';

const KIND = 'iot-sync-state';

export function iotSyncStateStore({
  client,
  tableName: TableName,
}: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): IotSyncStateStore {
  return {
    async get(deviceId) {
      const out = await client.send(
        new GetCommand({ TableName, Key: iotSyncStateKey(deviceId), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      const { pk: _pk, sk: _sk, kind: _kind, ...state } = out.Item;
      return state as IotSyncState;
    },

    async put(deviceId, state) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            // Written whole (optional fields left out are gone, e.g. a cleared error).
            Item: { ...iotSyncStateKey(deviceId), kind: KIND, ...state },
            // Two syncs of one device may overlap (at-least-once delivery): the older never overwrites the newer.
            ConditionExpression: 'attribute_not_exists(pk) OR device_version <= :v',
            ExpressionAttributeValues: { ':v': state.device_version },
          }),
        );
      } catch (error) {
        if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
      }
    },
  };
}
