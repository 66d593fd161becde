/**
 * GroupRepository on the single table. Every group lives in the `GROUPS` partition (group counts are
 * small: the list and the structural checks are Queries of that partition, never Scans). One change =
 * one TransactWriteItems (group-transaction.ts).
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { GroupRepository, GroupSnapshot, Page } from '../../app/ports';
import { ID_PATTERN } from '../../domain/device';
import type { DeviceGroup } from '../../domain/groups';
import type { BookmarkCodec } from './bookmark';
import { groupTransaction, translateCancellation } from './group-transaction';
import { GROUP_SK_PREFIX, GROUPS_PK, groupHierarchyKey, groupKey } from './keys';
import { OUTBOX_TTL_SECONDS } from './outbox';
import { transactWrite } from './transact';

export interface GroupRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  bookmarks: BookmarkCodec;
  outboxTtlSeconds?: number;
}

type Item = Record<string, unknown>;

export function groupRepository(options: GroupRepositoryOptions): GroupRepository & { readonly itemsRead: number } {
  const { client, tableName: TableName, bookmarks, outboxTtlSeconds = OUTBOX_TTL_SECONDS } = options;
  let itemsRead = 0;

  const parseDoc = (item: Item): DeviceGroup => JSON.parse(item.doc as string) as DeviceGroup;

  async function query(input: Omit<QueryCommandInput, 'TableName'>) {
    const out = await client.send(new QueryCommand({ TableName, ...input }));
    itemsRead += out.ScannedCount ?? out.Items?.length ?? 0;
    return out;
  }

  return {
    get itemsRead() {
      return itemsRead;
    },

    async get(id) {
      const out = await client.send(new GetCommand({ TableName, Key: groupKey(id), ConsistentRead: true }));
      if (!out.Item) return undefined;
      itemsRead++;
      return parseDoc(out.Item);
    },

    async getMany(ids) {
      const found: DeviceGroup[] = [];
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += 100) {
        let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = {
          [TableName]: { Keys: unique.slice(i, i + 100).map((id) => ({ ...groupKey(id) })), ConsistentRead: true },
        };
        while (request && Object.keys(request).length > 0) {
          const out = await client.send(new BatchGetCommand({ RequestItems: request }));
          for (const item of out.Responses?.[TableName] ?? []) {
            itemsRead++;
            found.push(parseDoc(item));
          }
          request = out.UnprocessedKeys as typeof request;
        }
      }
      return found;
    },

    async snapshot(): Promise<GroupSnapshot> {
      // The hierarchy version is read first: a structural change after this read bumps it, so a
      // change conditioned on it cannot commit on top of a stale view of the groups read below.
      const head = await client.send(new GetCommand({ TableName, Key: groupHierarchyKey(), ConsistentRead: true }));
      if (head.Item) itemsRead++;
      const groups: DeviceGroup[] = [];
      let startKey: Item | undefined;
      do {
        const out = await query({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': GROUPS_PK, ':prefix': GROUP_SK_PREFIX },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        });
        for (const item of out.Items ?? []) groups.push(parseDoc(item));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return { hierarchyVersion: Number(head.Item?.version ?? 0), groups };
    },

    async list(pageSize, bookmark): Promise<Page<DeviceGroup>> {
      const fingerprint = { groups: 'by-id' };
      // A position is the last id served.
      const after = bookmark ? bookmarks.decode(fingerprint, bookmark, (p) => ID_PATTERN.test(p)) : undefined;
      const out = await query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': GROUPS_PK, ':prefix': GROUP_SK_PREFIX },
        ConsistentRead: true,
        // One extra item tells whether a next page exists, so the last page says next "".
        Limit: pageSize + 1,
        ExclusiveStartKey: after === undefined ? undefined : groupKey(after),
      });
      const items = (out.Items ?? []).map(parseDoc);
      const list = items.slice(0, pageSize);
      return { list, next: items.length > pageSize ? bookmarks.encode(fingerprint, list.at(-1)!.id) : '' };
    },

    async save(change) {
      const { input, guards } = groupTransaction(TableName, change, outboxTtlSeconds);
      try {
        await transactWrite(client, input);
      } catch (error) {
        throw translateCancellation(error, guards);
      }
    },
  };
}
