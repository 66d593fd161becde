/**
 * Device group use cases (docs/api.md, Resources and Endpoints): create, read, list, replace, delete
 * (cascade) in group-changes.ts, and the group's members and statistics through the device use cases.
 */
import type { Device } from '../domain/device';
import type { Filter } from '../domain/filters';
import { ancestorsOf, DEFAULT_GROUP_MAX_DEPTH, type GroupView, viewOf } from '../domain/groups';
import type { DeviceListQuery } from '../domain/query';
import { groupChanges } from './group-changes';
import { groupHierarchy } from './group-hierarchy';
import type { Clock, DeviceStats, GroupRepository, IdGenerator, Page } from './ports';
import type { RetryOptions } from './retry';

/** The device use cases groups read their members through. */
export interface GroupMemberSource {
  list(query: DeviceListQuery): Promise<Page<Device>>;
  /** Statistics of the devices matching the filters, `status` filters included. */
  statsOfMatching(filters: readonly Filter[]): Promise<DeviceStats>;
}

export interface GroupServiceDeps {
  groups: GroupRepository;
  devices: GroupMemberSource;
  clock: Clock;
  newId: IdGenerator;
  /** Levels of the hierarchy, a root being level 1 (GROUP_MAX_DEPTH). */
  maxDepth?: number;
  /** Backoff and time bound of a change that lost a race (re-read, re-validated, re-applied). */
  retry?: RetryOptions;
  /** Groups deleted per transaction by a cascade (3 actions each + 1: within the 100-action limit). */
  deleteChunk?: number;
}

export type GroupService = ReturnType<typeof groupService>;

export function groupService({
  groups,
  devices,
  clock,
  newId,
  maxDepth = DEFAULT_GROUP_MAX_DEPTH,
  retry = {},
  deleteChunk = 25,
}: GroupServiceDeps) {
  const hierarchy = groupHierarchy(groups, maxDepth);
  return {
    ...groupChanges(hierarchy, { groups, clock, newId, maxDepth, retry, deleteChunk }),

    async get(id: string): Promise<GroupView> {
      const { group, ancestors } = await hierarchy.load(id);
      return viewOf(group, ancestors);
    },

    /** Groups by id; each with its inherited criteria (ancestors outside the page are batch-read). */
    async list(pageSize: number, bookmark?: string): Promise<Page<GroupView>> {
      const page = await groups.list(pageSize, bookmark);
      const map = await hierarchy.withAncestors(page.list);
      const list: GroupView[] = [];
      for (const g of page.list) {
        const ancestors = ancestorsOf(g, map);
        if (ancestors) list.push(viewOf(g, ancestors)); // else: deleted by a cascade under way
      }
      return { next: page.next, list };
    },

    /**
     * The group's members: the device list restricted to the effective criteria (ancestors' and own)
     * AND the request's filters. The device adapter picks the most selective indexed entry point
     * among all of them, so an indexed criterion keeps the read off the whole fleet.
     */
    async members(id: string, query: DeviceListQuery): Promise<Page<Device>> {
      const criteria = await hierarchy.membership(id);
      return devices.list({ ...query, filters: [...criteria, ...query.filters] });
    },

    /** Statistics of the members (status criteria allowed), optionally narrowed by more filters. */
    async stats(id: string, filters: readonly Filter[] = []): Promise<DeviceStats> {
      const criteria = await hierarchy.membership(id);
      return devices.statsOfMatching([...criteria, ...filters]);
    },
  };
}
