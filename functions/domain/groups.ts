/**
 * Device groups (docs/api.md, Resources): named, hierarchical, dynamic sets of devices. A device belongs to a
 * group when it matches the group's criteria AND the criteria of every ancestor. Pure: the hierarchy
 * is handed in as a map, time and ids come in as arguments.
 */
import { isoTimestamp } from './device';
import { GroupCycleError, GroupDepthExceededError, ParentGroupNotFoundError, ValidationError } from './errors';
import { compileCriteria, type Criterion, type Filter } from './filters';

export type { Criterion } from './filters';

/** Default of GROUP_MAX_DEPTH: levels of the hierarchy, a root being level 1. */
export const DEFAULT_GROUP_MAX_DEPTH = 10;
export const MAX_GROUP_CRITERIA = 20;
export const MAX_GROUP_NAME_LENGTH = 128;
export const MAX_GROUP_DESCRIPTION_LENGTH = 1024;

/** A group as stored: its own criteria only. */
export interface DeviceGroup {
  id: string;
  name: string;
  description: string;
  /** `null` for a root group (always present in JSON, never omitted). */
  parent_id: string | null;
  criteria: Criterion[];
  created_at: string;
  updated_at: string;
  version: number;
}

/** A group as served: plus the criteria of its ancestors, root first. */
export interface GroupView extends DeviceGroup {
  inherited_criteria: Criterion[];
}

/** What POST and PUT set. */
export interface GroupInput {
  name: string;
  description?: string;
  parent_id?: string | null;
  criteria: Criterion[];
}

/**
 * The key that makes names unique: Unicode NFKC then lower case, so "Production EU", "production eu"
 * and a full-width "Ｐroduction EU" are the same name. The name itself is stored as given.
 */
export function groupNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

/**
 * Validates criteria strictly against the device filter language (docs/api.md, Filters and sort) and compiles them.
 * Problems name the criterion's index: `criteria[2]`.
 */
export function compileGroupCriteria(criteria: readonly Criterion[], field = 'criteria'): Filter[] {
  const { filters, problems } = compileCriteria([...criteria], (i) => `${field}[${i}]`);
  if (problems.length > 0) throw new ValidationError('invalid group criteria', problems);
  return filters;
}

/**
 * The ancestors of a group, root first, looked up in `groups`. Undefined when the chain is broken (a
 * parent missing, which only a concurrent cascade delete can cause) or loops (never stored).
 */
export function ancestorsOf(
  group: Pick<DeviceGroup, 'id' | 'parent_id'>,
  groups: ReadonlyMap<string, DeviceGroup>,
): DeviceGroup[] | undefined {
  const chain: DeviceGroup[] = [];
  const seen = new Set([group.id]);
  for (let parentId = group.parent_id; parentId !== null; ) {
    const parent = groups.get(parentId);
    if (!parent || seen.has(parent.id)) return undefined;
    seen.add(parent.id);
    chain.push(parent);
    parentId = parent.parent_id;
  }
  return chain.reverse();
}

/** Ancestors' criteria, root first: what `inherited_criteria` shows. */
function inheritedCriteria(ancestors: readonly DeviceGroup[]): Criterion[] {
  return ancestors.flatMap((a) => a.criteria);
}

/** The criteria a member must match: every ancestor's (root first), then the group's own. */
export function effectiveCriteria(group: DeviceGroup, ancestors: readonly DeviceGroup[]): Criterion[] {
  return [...inheritedCriteria(ancestors), ...group.criteria];
}

export function viewOf(group: DeviceGroup, ancestors: readonly DeviceGroup[]): GroupView {
  const { id, name, description, parent_id, criteria, created_at, updated_at, version } = group;
  return {
    id,
    name,
    description,
    parent_id,
    criteria,
    inherited_criteria: inheritedCriteria(ancestors),
    created_at,
    updated_at,
    version,
  };
}

/** Direct children of every group, by parent id. */
function childrenIndex(groups: Iterable<DeviceGroup>): Map<string, DeviceGroup[]> {
  const index = new Map<string, DeviceGroup[]>();
  for (const g of groups) {
    if (g.parent_id === null) continue;
    const list = index.get(g.parent_id) ?? [];
    list.push(g);
    index.set(g.parent_id, list);
  }
  return index;
}

/**
 * The group and all its descendants, leaves first (post-order): every group comes after all of its
 * descendants, so deleting any prefix of the list never leaves a group whose parent is gone.
 */
export function subtreeLeavesFirst(root: DeviceGroup, groups: Iterable<DeviceGroup>): DeviceGroup[] {
  const children = childrenIndex(groups);
  const out: DeviceGroup[] = [];
  const seen = new Set<string>();
  const visit = (g: DeviceGroup) => {
    if (seen.has(g.id)) return;
    seen.add(g.id);
    for (const c of [...(children.get(g.id) ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) visit(c);
    out.push(g);
  };
  visit(root);
  return out;
}

/** Levels of the subtree under a group, the group included (a leaf has height 1). */
export function heightOf(id: string, groups: Iterable<DeviceGroup>): number {
  const children = childrenIndex(groups);
  const height = (gid: string, seen: Set<string>): number => {
    if (seen.has(gid)) return 0;
    seen.add(gid);
    return 1 + Math.max(0, ...(children.get(gid) ?? []).map((c) => height(c.id, seen)));
  };
  return height(id, new Set());
}

/**
 * Checks that group `id` may have `parentId` as its parent, given every stored group: the parent
 * exists (ParentGroupNotFoundError, 404), is neither the group nor one of its descendants
 * (GroupCycleError, 400), and the deepest group of the moved subtree stays within `maxDepth` levels
 * (GroupDepthExceededError, 400). A new group has no descendants.
 */
export function checkPlacement(
  id: string,
  parentId: string | null,
  groups: ReadonlyMap<string, DeviceGroup>,
  maxDepth: number,
): void {
  const height = groups.has(id) ? heightOf(id, groups.values()) : 1;
  if (parentId === null) {
    if (height > maxDepth) throw new GroupDepthExceededError(id, height, maxDepth);
    return;
  }
  if (parentId === id) throw new GroupCycleError(id, parentId);
  const parent = groups.get(parentId);
  if (!parent) throw new ParentGroupNotFoundError(parentId);
  // Walk up from the new parent: meeting the group itself means the parent is one of its descendants.
  let parentDepth = 0;
  const seen = new Set<string>();
  for (
    let at: DeviceGroup | undefined = parent;
    at;
    at = at.parent_id === null ? undefined : groups.get(at.parent_id)
  ) {
    if (at.id === id) throw new GroupCycleError(id, parentId);
    if (seen.has(at.id)) break; // a stored loop cannot exist; do not spin if it ever did
    seen.add(at.id);
    parentDepth++;
  }
  const depth = parentDepth + height;
  if (depth > maxDepth) throw new GroupDepthExceededError(id, depth, maxDepth);
}

export function newGroup(id: string, input: GroupInput, now: Date): DeviceGroup {
  const at = isoTimestamp(now);
  return {
    id,
    name: input.name,
    description: input.description ?? '',
    parent_id: input.parent_id ?? null,
    criteria: input.criteria.map(copyCriterion),
    created_at: at,
    updated_at: at,
    version: 1,
  };
}

/**
 * PUT: replaces name, description, parent_id and criteria (omitted description → "", omitted
 * parent_id → root). Undefined when nothing changes: no write, no event, no new version.
 */
export function replacedGroup(current: DeviceGroup, input: GroupInput, now: Date): DeviceGroup | undefined {
  const next = {
    name: input.name,
    description: input.description ?? '',
    parent_id: input.parent_id ?? null,
    criteria: input.criteria.map(copyCriterion),
  };
  const same =
    next.name === current.name &&
    next.description === current.description &&
    next.parent_id === current.parent_id &&
    JSON.stringify(next.criteria) === JSON.stringify(current.criteria.map(copyCriterion));
  if (same) return undefined;
  return { ...current, ...next, updated_at: isoTimestamp(now), version: current.version + 1 };
}

/** Keeps exactly the three fields, in a stable order. */
function copyCriterion(c: Criterion): Criterion {
  return { field: c.field, operand: c.operand, value: c.value };
}
