/**
 * GroupRepository on the single table. Every group lives in the `GROUPS` partition (group counts are
 * small: the list and the structural checks are Queries of that partition, never Scans). One change =
 * one TransactWriteItems: the group items (conditioned on their version), the name reservations that
 * keep names unique, the hierarchy version when the structure changes, and the outbox records.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { GroupChange, GroupRepository, GroupSnapshot, Page } from '../../app/ports';
import { GroupAlreadyExistsError, GroupNameTakenError, VersionConflictError } from '../../domain/errors';
import { type DeviceGroup, groupNameKey } from '../../domain/groups';
import { ID_PATTERN } from '../../domain/device';
import type { BookmarkCodec } from './bookmark';
import { GROUP_SK_PREFIX, GROUPS_PK, groupHierarchyKey, groupKey, groupNameReservationKey } from './keys';
import { OUTBOX_TTL_SECONDS, outboxPuts } from './outbox';
import { cancellationCodes, transactWrite } from './transact';

export interface GroupRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  bookmarks: BookmarkCodec;
  outboxTtlSeconds?: number;
}

type Item = Record<string, unknown>;

/** What a failed condition of each transaction action means. */
type Guard =
  | { kind: 'exists'; id: string }
  | { kind: 'name'; name: string }
  | { kind: 'conflict'; id: string }
  | { kind: 'none' };

export const GROUP_KIND = 'group';
export const GROUP_NAME_KIND = 'group-name';
export const GROUP_HIERARCHY_KIND = 'group-hierarchy';

export function groupRepository(options: GroupRepositoryOptions): GroupRepository & { readonly itemsRead: number } {
  const { client, tableName: TableName, bookmarks, outboxTtlSeconds = OUTBOX_TTL_SECONDS } = options;
  let itemsRead = 0;

  const parseDoc = (item: Item): DeviceGroup => JSON.parse(item.doc as string) as DeviceGroup;
  const groupItem = (g: DeviceGroup): Item => ({
    ...groupKey(g.id),
    kind: GROUP_KIND,
    version: g.version,
    doc: JSON.stringify(g),
  });

  async function query(input: Omit<QueryCommandInput, 'TableName'>) {
    const out = await client.send(new QueryCommand({ TableName, ...input }));
    itemsRead += out.ScannedCount ?? out.Items?.length ?? 0;
    return out;
  }

  function transaction(change: GroupChange): { input: TransactWriteCommandInput; guards: Guard[] } {
    const actions: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    const guards: Guard[] = [];
    const add = (action: (typeof actions)[number], guard: Guard) => {
      actions.push(action);
      guards.push(guard);
    };

    for (const { before, after } of change.puts) {
      add(
        {
          Put: {
            TableName,
            Item: groupItem(after),
            ...(before
              ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': before.version } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        },
        before ? { kind: 'conflict', id: after.id } : { kind: 'exists', id: after.id },
      );
      const oldKey = before ? groupNameKey(before.name) : undefined;
      const newKey = groupNameKey(after.name);
      if (oldKey === newKey) continue;
      add(
        {
          Put: {
            TableName,
            Item: { ...groupNameReservationKey(newKey), kind: GROUP_NAME_KIND, group_id: after.id, name: after.name },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        { kind: 'name', name: after.name },
      );
      if (oldKey !== undefined) add(releaseName(oldKey, after.id), { kind: 'conflict', id: after.id });
    }

    for (const g of change.deletes) {
      add(
        {
          Delete: {
            TableName,
            Key: groupKey(g.id),
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': g.version },
          },
        },
        { kind: 'conflict', id: g.id },
      );
      add(releaseName(groupNameKey(g.name), g.id), { kind: 'conflict', id: g.id });
    }

    if (change.hierarchyVersion !== undefined) {
      const current = change.hierarchyVersion;
      add(
        {
          Put: {
            TableName,
            Item: { ...groupHierarchyKey(), kind: GROUP_HIERARCHY_KIND, version: current + 1 },
            ...(current === 0
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'version = :h', ExpressionAttributeValues: { ':h': current } }),
          },
        },
        { kind: 'conflict', id: 'device-group hierarchy' },
      );
    }

    for (const put of outboxPuts(TableName, change.outbox, outboxTtlSeconds)) add(put, { kind: 'none' });
    return { input: { TransactItems: actions }, guards };
  }

  function releaseName(nameKey: string, groupId: string) {
    return {
      Delete: {
        TableName,
        Key: groupNameReservationKey(nameKey),
        // Only the holder's own reservation: a mismatch means the state moved under us (retry).
        ConditionExpression: 'group_id = :g',
        ExpressionAttributeValues: { ':g': groupId },
      },
    };
  }

  /** Maps the failed conditions to one domain error: a version race first (the caller re-reads). */
  function translate(error: unknown, guards: Guard[]): unknown {
    const codes = cancellationCodes(error);
    if (!codes) return error;
    const failed = guards.filter((_, i) => codes[i] === 'ConditionalCheckFailed');
    const conflict = failed.find((g) => g.kind === 'conflict');
    if (conflict?.kind === 'conflict') return new VersionConflictError(conflict.id, { cause: error });
    const exists = failed.find((g) => g.kind === 'exists');
    if (exists?.kind === 'exists') return new GroupAlreadyExistsError(exists.id, { cause: error });
    const name = failed.find((g) => g.kind === 'name');
    if (name?.kind === 'name') return new GroupNameTakenError(name.name, { cause: error });
    return error;
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
      const { input, guards } = transaction(change);
      try {
        await transactWrite(client, input);
      } catch (error) {
        throw translate(error, guards);
      }
    },
  };
}
