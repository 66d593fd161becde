/**
 * Reading groups with their place in the hierarchy: a group and its ancestors (one batch read per
 * level, never the whole partition), and the filters its members must match.
 */
import { GroupNotFoundError } from '../domain/errors';
import type { Filter } from '../domain/filters';
import { ancestorsOf, compileGroupCriteria, type DeviceGroup, effectiveCriteria } from '../domain/groups';
import type { GroupRepository } from './ports';

export type GroupHierarchy = ReturnType<typeof groupHierarchy>;

export function groupHierarchy(groups: Pick<GroupRepository, 'get' | 'getMany'>, maxDepth: number) {
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

  return { withAncestors, load, membership };
}

export function snapshotMap(groupsRead: readonly DeviceGroup[]): Map<string, DeviceGroup> {
  return new Map(groupsRead.map((g) => [g.id, g]));
}

/** The ancestors of a group in a map of groups, root first (none when its chain is broken). */
export const chain = (g: Pick<DeviceGroup, 'id' | 'parent_id'>, map: ReadonlyMap<string, DeviceGroup>) =>
  ancestorsOf(g, map) ?? [];
