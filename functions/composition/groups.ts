/** The device group use cases: process-wide, for the group routes. */
import { randomUUID } from 'node:crypto';
import { type GroupMemberSource, groupService, type GroupService } from '../app/groups';
import { groupRepository } from '../adapters/dynamodb/group-repository';
import { processWide, type TableContext } from './context';
import { deviceReads } from './device-reads';

export function createGroups(
  { client, config, clock, bookmarks, retry }: TableContext,
  members: GroupMemberSource,
): GroupService {
  return groupService({
    groups: groupRepository({ client, tableName: config.tableName, bookmarks }),
    devices: members,
    clock,
    newId: randomUUID,
    maxDepth: config.groupMaxDepth,
    retry,
  });
}

export const groups = processWide(
  (s) => s.groups,
  (context) => createGroups(context, deviceReads()),
);
