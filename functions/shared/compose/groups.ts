/** The device group use cases: process-wide, for the group routes. */
import { randomUUID } from 'node:crypto';
import type { DeviceService } from '../../app/devices';
import { groupService, type GroupService } from '../../app/groups';
import { groupRepository } from '../../adapters/dynamodb/group-repository';
import { processWide, type TableContext } from './context';
import { devices } from './devices';

export function createGroups({ client, config, clock, bookmarks, retry }: TableContext, deviceUseCases: DeviceService): GroupService {
  return groupService({
    groups: groupRepository({ client, tableName: config.tableName, bookmarks }),
    devices: deviceUseCases,
    clock,
    newId: randomUUID,
    maxDepth: config.groupMaxDepth,
    retry,
  });
}

export const groups = processWide((s) => s.groups, (context) => createGroups(context, devices()));
