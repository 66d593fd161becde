/** The group and DMS-policy ports in memory, with the DynamoDB adapters' conditions and errors. */
import type { GroupRepository, PolicyRepository } from '../../../functions/app/ports';
import type { BookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { ID_PATTERN } from '../../../functions/domain/device';
import { GroupAlreadyExistsError, GroupNameTakenError, VersionConflictError } from '../../../functions/domain/errors';
import { type DeviceGroup, groupNameKey } from '../../../functions/domain/groups';
import type { DmsPolicy } from '../../../functions/domain/policy';
import { appendOutbox, type MemoryState } from './state';

/** A page of documents sorted by id, after the bookmark's id; `next` only when more follow. */
function idPage<T extends { id: string }>(
  docs: Iterable<string>,
  bookmarks: BookmarkCodec,
  fingerprint: unknown,
  pageSize: number,
  bookmark?: string,
) {
  const after = bookmark ? bookmarks.decode(fingerprint, bookmark, (p) => ID_PATTERN.test(p)) : undefined;
  const items = [...docs]
    .map((doc) => JSON.parse(doc) as T)
    .filter((item) => after === undefined || item.id > after)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const list = items.slice(0, pageSize);
  return { list, next: items.length > pageSize ? bookmarks.encode(fingerprint, list.at(-1)!.id) : '' };
}

export function memoryGroupRepository(state: MemoryState, bookmarks: BookmarkCodec): GroupRepository {
  const read = (id: string) => {
    const doc = state.groups.get(id);
    return doc === undefined ? undefined : (JSON.parse(doc) as DeviceGroup);
  };
  const all = () => [...state.groups.keys()].sort().map((id) => read(id)!);

  return {
    async get(id) {
      return read(id);
    },

    async getMany(ids) {
      return [...new Set(ids)].map(read).filter((g): g is DeviceGroup => g !== undefined);
    },

    async snapshot() {
      return { hierarchyVersion: state.hierarchyVersion, groups: all() };
    },

    async list(pageSize, bookmark) {
      return idPage<DeviceGroup>(state.groups.values(), bookmarks, { groups: 'by-id' }, pageSize, bookmark);
    },

    async save(change) {
      // Every condition first, then every write: one transaction. A version race wins over the others.
      const conflicts: string[] = [];
      const exists: string[] = [];
      const names: string[] = [];
      for (const { before, after } of change.puts) {
        const stored = read(after.id);
        if (before ? stored?.version !== before.version : stored) (before ? conflicts : exists).push(after.id);
        const oldKey = before ? groupNameKey(before.name) : undefined;
        const newKey = groupNameKey(after.name);
        if (oldKey === newKey) continue;
        if (state.groupNames.has(newKey)) names.push(after.name);
        if (oldKey !== undefined && state.groupNames.get(oldKey) !== after.id) conflicts.push(after.id);
      }
      for (const g of change.deletes)
        if (read(g.id)?.version !== g.version || state.groupNames.get(groupNameKey(g.name)) !== g.id)
          conflicts.push(g.id);
      if (change.hierarchyVersion !== undefined && change.hierarchyVersion !== state.hierarchyVersion)
        conflicts.push('device-group hierarchy');
      if (conflicts[0] !== undefined) throw new VersionConflictError(conflicts[0]);
      if (exists[0] !== undefined) throw new GroupAlreadyExistsError(exists[0]);
      if (names[0] !== undefined) throw new GroupNameTakenError(names[0]);

      for (const { before, after } of change.puts) {
        state.groups.set(after.id, JSON.stringify(after));
        if (before) state.groupNames.delete(groupNameKey(before.name));
        state.groupNames.set(groupNameKey(after.name), after.id);
      }
      for (const g of change.deletes) {
        state.groups.delete(g.id);
        state.groupNames.delete(groupNameKey(g.name));
      }
      if (change.hierarchyVersion !== undefined) state.hierarchyVersion += 1;
      appendOutbox(state, change.outbox);
    },
  };
}

export function memoryPolicyRepository(state: MemoryState, bookmarks: BookmarkCodec): PolicyRepository {
  return {
    async get(dms) {
      const doc = state.policies.get(dms);
      return doc === undefined ? undefined : (JSON.parse(doc) as DmsPolicy);
    },

    async list(pageSize, bookmark) {
      return idPage<DmsPolicy>(state.policies.values(), bookmarks, { policies: true }, pageSize, bookmark);
    },

    async save(before, after, outbox) {
      const stored = await this.get(after.id);
      if (before ? stored?.version !== before.version : stored) throw new VersionConflictError(after.id);
      state.policies.set(after.id, JSON.stringify(after));
      // A newer job replaces an unfinished older one.
      state.jobs.set(after.id, { dms: after.id, progress: {}, policyVersion: after.version });
      appendOutbox(state, outbox);
    },

    async jobs() {
      return [...state.jobs.values()].map((job) => structuredClone(job));
    },

    async updateJob(job, done) {
      // The policy changed again: its newer job restarts the walk.
      if (state.jobs.get(job.dms)?.policyVersion !== job.policyVersion) return;
      if (done) state.jobs.delete(job.dms);
      else state.jobs.set(job.dms, structuredClone(job));
    },
  };
}
