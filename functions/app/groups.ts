/**
 * Device group use cases (docs/api.md, Resources and Endpoints): create, read, list, replace, delete (cascade), and the
 * group's members and statistics through the device use cases.
 *
 * Consistency: structural changes (a create under a parent, a change of parent, a delete) validate
 * the hierarchy on a snapshot of every group and commit conditioned on the snapshot's hierarchy
 * version, so parents exist, no cycle forms, the depth limit holds and no child is orphaned even
 * under concurrent changes; a lost race is re-read and re-validated.
 */
import type { Device } from '../domain/device';
import {
  GroupAlreadyExistsError,
  GroupNotFoundError,
  GroupHasChildrenError,
  PreconditionFailedError,
} from '../domain/errors';
import type { Filter } from '../domain/filters';
import {
  ancestorsOf,
  checkPlacement,
  compileGroupCriteria,
  DEFAULT_GROUP_MAX_DEPTH,
  type DeviceGroup,
  effectiveCriteria,
  type GroupInput,
  type GroupView,
  newGroup,
  replacedGroup,
  subtreeLeavesFirst,
  viewOf,
} from '../domain/groups';
import { isoTimestamp } from '../domain/device';
import { groupCreated, groupDeleted, groupUpdated } from '../domain/outbox';
import type { DeviceListQuery } from '../domain/query';
import type { Clock, DeviceStats, GroupRepository, IdGenerator, Page } from './ports';
import { retryOnConflict, type RetryOptions } from './retry';

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

export interface NewGroupRequest extends GroupInput {
  id?: string;
}

export interface DeleteOptions {
  cascade?: boolean;
  ifMatch?: number;
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
  /**
   * Adds every ancestor of `targets` to a map, one batch read per level (a chain is at most
   * `maxDepth` long): reads never need the whole partition.
   */
  async function withAncestors(targets: readonly DeviceGroup[]): Promise<Map<string, DeviceGroup>> {
    const known = new Map(targets.map((g) => [g.id, g]));
    const requested = new Set<string>();
    for (let level = 0; level <= maxDepth; level++) {
      // A parent asked for and not found was deleted under us: ancestorsOf reports the broken chain.
      const missing = [
        ...new Set(
          [...known.values()]
            .map((g) => g.parent_id)
            .filter((p): p is string => p !== null && !known.has(p) && !requested.has(p)),
        ),
      ];
      if (missing.length === 0) break;
      for (const p of missing) requested.add(p);
      for (const g of await groups.getMany(missing)) known.set(g.id, g);
    }
    return known;
  }

  /** The group as served, or GroupNotFoundError when it (or, mid-cascade, an ancestor) is gone. */
  async function load(id: string): Promise<{ group: DeviceGroup; ancestors: DeviceGroup[] }> {
    const group = await groups.get(id);
    if (!group) throw new GroupNotFoundError(id);
    const ancestors = ancestorsOf(group, await withAncestors([group]));
    if (!ancestors) throw new GroupNotFoundError(id);
    return { group, ancestors };
  }

  /** The compiled filters a member must match: every ancestor's criteria and the group's own. */
  async function membership(id: string): Promise<Filter[]> {
    const { group, ancestors } = await load(id);
    return compileGroupCriteria(effectiveCriteria(group, ancestors));
  }

  function snapshotMap(groupsRead: readonly DeviceGroup[]): Map<string, DeviceGroup> {
    return new Map(groupsRead.map((g) => [g.id, g]));
  }

  const chain = (g: Pick<DeviceGroup, 'id' | 'parent_id'>, map: ReadonlyMap<string, DeviceGroup>) =>
    ancestorsOf(g, map) ?? [];

  return {
    async create(request: NewGroupRequest): Promise<GroupView> {
      compileGroupCriteria(request.criteria);
      const id = request.id ?? newId();
      const parentId = request.parent_id ?? null;
      return retryOnConflict(retry, 'device groups', async () => {
        const now = clock.now();
        const group = newGroup(id, request, now);
        let ancestors: DeviceGroup[] = [];
        let hierarchyVersion: number | undefined;
        if (parentId !== null) {
          // A root needs no hierarchy check; a child needs its parent to exist at commit time.
          const snap = await groups.snapshot();
          const map = snapshotMap(snap.groups);
          if (map.has(id)) throw new GroupAlreadyExistsError(id);
          checkPlacement(id, parentId, map, maxDepth);
          ancestors = chain(group, map);
          hierarchyVersion = snap.hierarchyVersion;
        }
        const view = viewOf(group, ancestors);
        await groups.save({
          puts: [{ after: group }],
          deletes: [],
          hierarchyVersion,
          outbox: [groupCreated(newId(), view, group.created_at)],
        });
        return view;
      });
    },

    async get(id: string): Promise<GroupView> {
      const { group, ancestors } = await load(id);
      return viewOf(group, ancestors);
    },

    /** Groups by id; each with its inherited criteria (ancestors outside the page are batch-read). */
    async list(pageSize: number, bookmark?: string): Promise<Page<GroupView>> {
      const page = await groups.list(pageSize, bookmark);
      const map = await withAncestors(page.list);
      const list: GroupView[] = [];
      for (const g of page.list) {
        const ancestors = ancestorsOf(g, map);
        if (ancestors) list.push(viewOf(g, ancestors)); // else: deleted by a cascade under way
      }
      return { next: page.next, list };
    },

    /**
     * PUT: replaces name, description, parent_id and criteria. With `ifMatch` a lost race is 412;
     * without it the replacement is applied to the fresh group.
     */
    async replace(id: string, input: GroupInput, ifMatch?: number): Promise<GroupView> {
      compileGroupCriteria(input.criteria);
      const parentId = input.parent_id ?? null;
      // A lost race is re-read: a moved version is then the client's 412 (If-Match) or re-applied (blind PUT).
      return retryOnConflict(retry, `device group ${id}`, async () => {
        let current = await groups.get(id);
        if (!current) throw new GroupNotFoundError(id);
        let map: Map<string, DeviceGroup>;
        let hierarchyVersion: number | undefined;
        if (parentId !== current.parent_id) {
          const snap = await groups.snapshot();
          map = snapshotMap(snap.groups);
          current = map.get(id);
          if (!current) throw new GroupNotFoundError(id);
          hierarchyVersion = snap.hierarchyVersion;
        } else map = await withAncestors([current]);
        if (ifMatch !== undefined && current.version !== ifMatch)
          throw new PreconditionFailedError(ifMatch, current.version);
        if (hierarchyVersion !== undefined) checkPlacement(id, parentId, map, maxDepth);

        const before = viewOf(current, chain(current, map));
        const next = replacedGroup(current, input, clock.now());
        if (!next) return before;
        const after = viewOf(next, chain(next, map));
        await groups.save({
          puts: [{ before: current, after: next }],
          deletes: [],
          hierarchyVersion,
          outbox: [groupUpdated(newId(), before, after, next.updated_at)],
        });
        return after;
      });
    },

    /**
     * Deletes a group; with children only when `cascade`, then the whole subtree, leaves first, in
     * transactions of `deleteChunk` groups (one when the subtree is small). Each deleted group gets a
     * `device-group.delete` event. An interrupted multi-transaction cascade leaves a valid, smaller
     * tree (never an orphan) and can simply be repeated.
     */
    async remove(id: string, { cascade = false, ifMatch }: DeleteOptions = {}): Promise<void> {
      let progressed = false;
      return retryOnConflict(retry, `device group ${id}`, async () => {
        const snap = await groups.snapshot();
        const map = snapshotMap(snap.groups);
        const target = map.get(id);
        if (!target) {
          if (progressed) return;
          throw new GroupNotFoundError(id);
        }
        if (ifMatch !== undefined && target.version !== ifMatch)
          throw new PreconditionFailedError(ifMatch, target.version);
        const doomed = subtreeLeavesFirst(target, map.values());
        if (doomed.length > 1 && !cascade)
          throw new GroupHasChildrenError(id, doomed.filter((g) => g.parent_id === id).length);
        const time = isoTimestamp(clock.now());
        let hierarchyVersion = snap.hierarchyVersion;
        for (let i = 0; i < doomed.length; i += deleteChunk) {
          const chunk = doomed.slice(i, i + deleteChunk);
          const outbox = chunk.map((g) => groupDeleted(newId(), viewOf(g, chain(g, map)), time));
          await groups.save({ puts: [], deletes: chunk, hierarchyVersion, outbox });
          hierarchyVersion++;
          progressed = true;
        }
      });
    },

    /**
     * The group's members: the device list restricted to the effective criteria (ancestors' and own)
     * AND the request's filters. The device adapter picks the most selective indexed entry point
     * among all of them, so an indexed criterion keeps the read off the whole fleet.
     */
    async members(id: string, query: DeviceListQuery): Promise<Page<Device>> {
      const criteria = await membership(id);
      return devices.list({ ...query, filters: [...criteria, ...query.filters] });
    },

    /** Statistics of the members (status criteria allowed), optionally narrowed by more filters. */
    async stats(id: string, filters: readonly Filter[] = []): Promise<DeviceStats> {
      const criteria = await membership(id);
      return devices.statsOfMatching([...criteria, ...filters]);
    },
  };
}
