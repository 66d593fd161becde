/**
 * Structural and content changes of groups: create, replace, delete (cascade).
 *
 * Consistency: structural changes (a create under a parent, a change of parent, a delete) validate
 * the hierarchy on a snapshot of every group and commit conditioned on the snapshot's hierarchy
 * version, so parents exist, no cycle forms, the depth limit holds and no child is orphaned even
 * under concurrent changes; a lost race is re-read and re-validated.
 */
import { isoTimestamp } from '../domain/device';
import {
  GroupAlreadyExistsError,
  GroupHasChildrenError,
  GroupNotFoundError,
  PreconditionFailedError,
} from '../domain/errors';
import {
  checkPlacement,
  compileGroupCriteria,
  type DeviceGroup,
  type GroupInput,
  type GroupView,
  newGroup,
  replacedGroup,
  subtreeLeavesFirst,
  viewOf,
} from '../domain/groups';
import { groupCreated, groupDeleted, groupUpdated } from '../domain/outbox';
import { chain, type GroupHierarchy, snapshotMap } from './group-hierarchy';
import type { Clock, GroupRepository, IdGenerator } from './ports';
import { retryOnConflict, type RetryOptions } from './retry';

export interface NewGroupRequest extends GroupInput {
  id?: string;
}

export interface DeleteOptions {
  cascade?: boolean;
  ifMatch?: number;
}

interface GroupChangeDeps {
  groups: GroupRepository;
  clock: Clock;
  newId: IdGenerator;
  maxDepth: number;
  retry: RetryOptions;
  deleteChunk: number;
}

export function groupChanges(
  hierarchy: Pick<GroupHierarchy, 'withAncestors'>,
  { groups, clock, newId, maxDepth, retry, deleteChunk }: GroupChangeDeps,
) {
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
        } else map = await hierarchy.withAncestors([current]);
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
  };
}
