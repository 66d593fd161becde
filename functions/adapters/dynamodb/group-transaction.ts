/**
 * One change of groups as one TransactWriteItems: the group items (conditioned on their version),
 * the name reservations that keep names unique, the hierarchy version when the structure changes,
 * and the outbox records; and what a failed condition of each action means.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { GroupChange } from '../../app/ports';
import { GroupAlreadyExistsError, GroupNameTakenError, VersionConflictError } from '../../domain/errors';
import { type DeviceGroup, groupNameKey } from '../../domain/groups';
import { groupHierarchyKey, groupKey, groupNameReservationKey } from './keys';
import { outboxPuts } from './outbox';
import { cancellationCodes } from './transact';

type Item = Record<string, unknown>;

/** What a failed condition of each transaction action means. */
type Guard =
  | { kind: 'exists'; id: string }
  | { kind: 'name'; name: string }
  | { kind: 'conflict'; id: string }
  | { kind: 'none' };

const GROUP_KIND = 'group';
const GROUP_NAME_KIND = 'group-name';
const GROUP_HIERARCHY_KIND = 'group-hierarchy';

const groupItem = (g: DeviceGroup): Item => ({
  ...groupKey(g.id),
  kind: GROUP_KIND,
  version: g.version,
  doc: JSON.stringify(g),
});

export function groupTransaction(
  TableName: string,
  change: GroupChange,
  outboxTtlSeconds: number,
): { input: TransactWriteCommandInput; guards: Guard[] } {
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
    if (oldKey !== undefined) add(releaseName(TableName, oldKey, after.id), { kind: 'conflict', id: after.id });
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
    add(releaseName(TableName, groupNameKey(g.name), g.id), { kind: 'conflict', id: g.id });
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

function releaseName(TableName: string, nameKey: string, groupId: string) {
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
export function translateCancellation(error: unknown, guards: Guard[]): unknown {
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
