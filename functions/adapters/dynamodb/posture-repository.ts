/**
 * The posture policy, its re-evaluation job and the findings' reads on the single table
 * (docs/data-model.md, Posture findings): the policy, job and state items in the `POSTURE`
 * partition; the open counts from the finding counters (one item per stats shard, kept by the
 * counter applier); the devices of a check from its sharded sparse entry partitions.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FindingRow, PostureJob, PostureRepository, StoredPosturePolicy } from '../../app/ports';
import type { Device } from '../../domain/device';
import { InvalidBookmarkError, VersionConflictError } from '../../domain/errors';
import { findingsOf } from '../../domain/findings';
import { type PostureCheck, postureCheckNames } from '../../domain/posture-checks';
import type { KeyHolder } from '../../domain/shared-holdings';
import { HOLDERS_KEY } from './counters';
import { FINDINGS_ATTRIBUTE, POSTURE_VERSION_ATTRIBUTE } from './device-writes';
import type { DeviceTable } from './device-table';
import {
  deviceKey,
  entryPartition,
  entryPrefix,
  findingPrefix,
  findingStatsAttribute,
  findingStatsKey,
  POSTURE_PK,
  postureJobKey,
  posturePolicyKey,
  postureStateKey,
  compactFingerprint,
  keyHolderOf,
  type TableKey,
} from './keys';
import { entryPageById, listEntry } from './list-cursor';
import { HOLDER_INDEX, INDEXES } from './schema';
import { cancellationCodes, transactWrite } from './transact';

/**
 * The checks the fleet was last walked for: a deployment whose state names an older revision walks
 * its devices once more (only those not yet registered for the checks added since: the shared ones).
 */
const CHECKS_REVISION = 2;

/** How long `ready` is cached: the findings become ready once, so staleness only delays their use. */
const READY_CACHE_MS = 15_000;

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

const jobOf = (item: Record<string, unknown>): PostureJob => ({
  policyVersion: item.policyVersion as number,
  progress: (item.progress as Record<string, string>) ?? {},
});

export function postureRepository(table: DeviceTable): PostureRepository {
  const { client, TableName, ctx, reader, bookmarks, counters, budgets, now, countRead } = table;
  const segments = Array.from({ length: ctx.listShards }, (_, s) => String(s));
  let readyCache: { at: number } | undefined;

  const getItem = async (Key: TableKey) => {
    const out = await client.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
    if (out.Item) countRead();
    return out.Item;
  };

  async function ready(): Promise<boolean> {
    if (readyCache && now() - readyCache.at < READY_CACHE_MS) return true;
    const state = await getItem(postureStateKey());
    if (state?.ready !== true) return false;
    // The shared checks need every device registered in the holder index (its back-fill).
    if (ctx.indexedKeys.has(HOLDERS_KEY) && !(await table.indexes.ready()).has(HOLDERS_KEY)) return false;
    readyCache = { at: now() };
    return true;
  }

  const jobCondition = (job: PostureJob) => ({
    ConditionExpression: 'policyVersion = :pv',
    ExpressionAttributeValues: { ':pv': job.policyVersion },
  });

  return {
    segments,
    ready,

    async get() {
      const item = await getItem(posturePolicyKey());
      return item ? (JSON.parse(item.doc as string) as StoredPosturePolicy) : undefined;
    },

    async save(beforeVersion, after) {
      const job = { ...postureJobKey(), kind: 'posture-job', policyVersion: after.version, progress: {} };
      try {
        await transactWrite(client, {
          TransactItems: [
            {
              Put: {
                TableName,
                Item: {
                  ...posturePolicyKey(),
                  kind: 'posture-policy',
                  version: after.version,
                  doc: JSON.stringify(after),
                },
                ...(beforeVersion > 0
                  ? {
                      ConditionExpression: '#version = :v',
                      ExpressionAttributeNames: { '#version': 'version' },
                      ExpressionAttributeValues: { ':v': beforeVersion },
                    }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
            // The newest policy is what devices must follow: its job replaces an unfinished older one.
            { Put: { TableName, Item: job } },
          ],
        });
      } catch (error) {
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed')
          throw new VersionConflictError('posture policy', { cause: error });
        throw error;
      }
    },

    async job() {
      // One Query of the small posture partition (the dispatcher may Query, not GetItem).
      const out = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': POSTURE_PK },
          ConsistentRead: true,
        }),
      );
      const items = new Map((out.Items ?? []).map((item) => [String(item.sk), item]));
      const stored = items.get(postureJobKey().sk);
      if (stored) return jobOf(stored);
      const state = items.get(postureStateKey().sk);
      if (state?.ready === true && state.revision === CHECKS_REVISION) return undefined;
      // Never assessed: the first job walks every device (those bound before posture existed); a fleet
      // assessed before the shared checks existed is walked for them (findings stay readable meanwhile).
      const first: PostureJob = { policyVersion: 0, progress: {} };
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: { ...postureJobKey(), kind: 'posture-job', ...first },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return first;
      } catch (error) {
        // A policy change (or another dispatcher) wrote a job first: the next run walks it.
        if (!isConditionFailure(error)) throw error;
        return undefined;
      }
    },

    async recordJobProgress(job, segment, position) {
      const condition = jobCondition(job);
      try {
        // One attribute of the progress map: walkers of other segments write theirs concurrently.
        const out = await client.send(
          new UpdateCommand({
            TableName,
            Key: postureJobKey(),
            UpdateExpression: 'SET progress.#s = :p',
            ConditionExpression: condition.ConditionExpression,
            ExpressionAttributeNames: { '#s': segment },
            ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':p': position },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const progress = (out.Attributes?.progress ?? {}) as Record<string, string>;
        if (!segments.every((s) => progress[s] === 'done')) return 'running';
        await client.send(new DeleteCommand({ TableName, Key: postureJobKey(), ...condition }));
        await client.send(
          new PutCommand({
            TableName,
            Item: { ...postureStateKey(), kind: 'posture-state', ready: true, revision: CHECKS_REVISION },
          }),
        );
        return 'done';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return 'replaced';
      }
    },

    async devicesPage(segment, pageSize, after) {
      const partition = entryPartition(entryPrefix({ kind: 'ALL' }), Number(segment));
      const page = await entryPageById(reader, partition, pageSize, after);
      const devices = await table.hydrate(page.items);
      return { devices, ...(page.next === undefined ? {} : { next: page.next }) };
    },

    async stamp(device, policyVersion) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: deviceKey(device.id),
            UpdateExpression: 'SET #ppv = :ppv, #fd = :fd',
            ConditionExpression: '#version = :v AND (attribute_not_exists(#ppv) OR #ppv <= :ppv)',
            ExpressionAttributeNames: {
              '#ppv': POSTURE_VERSION_ATTRIBUTE,
              '#fd': FINDINGS_ATTRIBUTE,
              '#version': 'version',
            },
            ExpressionAttributeValues: {
              ':ppv': policyVersion,
              ':fd': JSON.stringify(findingsOf(device)),
              ':v': device.version,
            },
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) throw new VersionConflictError(device.id, { cause: error });
        throw error;
      }
    },

    async keyHolders(publicKey) {
      const holders: KeyHolder[] = [];
      const pages = paginateQuery(
        { client },
        {
          TableName,
          IndexName: HOLDER_INDEX.name,
          KeyConditionExpression: '#hk = :hk',
          ExpressionAttributeNames: { '#hk': HOLDER_INDEX.partitionKey },
          ExpressionAttributeValues: { ':hk': compactFingerprint(publicKey) },
        },
      );
      for await (const page of pages)
        for (const item of page.Items ?? []) {
          countRead();
          holders.push(keyHolderOf(String(item[HOLDER_INDEX.sortKey])));
        }
      return holders;
    },

    async openCounts() {
      const shards = Array.from({ length: ctx.statsShards }, (_, s) => findingStatsKey(s));
      const [items, consistent_as_of] = await Promise.all([
        Promise.all(shards.map((Key) => client.send(new GetCommand({ TableName, Key })))),
        counters.asOf(),
      ]);
      const counts = Object.fromEntries(postureCheckNames.map((c) => [c, 0])) as Record<PostureCheck, number>;
      for (const { Item } of items) {
        if (!Item) continue;
        countRead();
        for (const check of postureCheckNames) counts[check] += Number(Item[findingStatsAttribute(check)] ?? 0);
      }
      return { counts, consistent_as_of };
    },

    async findings(check, pageSize, bookmark) {
      const page = await checkPage(check, pageSize, bookmark);
      const list: FindingRow[] = page.list.flatMap((device) =>
        findingsOf(device)
          .filter((f) => f.check === check)
          .map(({ slot, since, detail }) => ({ device_id: device.id, slot, since, detail })),
      );
      return { list, next: page.next };
    },

    async findingDevices(check, pageSize, bookmark) {
      // A job needs every device once, in no global order: each shard is walked to its end in turn, so
      // no entry is read that the page does not return (a merged page by id reads ahead in every shard).
      const fingerprint = { findingWalk: check };
      const position = bookmark ? bookmarks.decode(fingerprint, bookmark) : '0:';
      const match = /^(\d{1,4}):([A-Za-z0-9:_.-]{0,128})$/.exec(position);
      if (!match || Number(match[1]) >= ctx.listShards) throw new InvalidBookmarkError();
      let shard = Number(match[1]);
      let after = match[2] || undefined;
      const list: Device[] = [];
      while (list.length < pageSize && shard < ctx.listShards) {
        const page = await entryPageById(
          reader,
          entryPartition(findingPrefix(check), shard),
          pageSize - list.length,
          after,
        );
        // Read after the entry: a device whose finding was resolved since no longer holds the check.
        for (const device of await table.hydrate(page.items))
          if (findingsOf(device).some((f) => f.check === check)) list.push(device);
        if (page.next === undefined) {
          shard += 1;
          after = undefined;
        } else after = page.next;
        if (page.items.length === 0 && after !== undefined) break;
      }
      const next = shard < ctx.listShards ? bookmarks.encode(fingerprint, `${shard}:${after ?? ''}`) : '';
      return { list, next };
    },
  };

  /**
   * One page of a check's entries, by device id, with their devices. The entry is read before the device
   * (eventually consistent): a device whose finding was resolved since no longer holds the check.
   */
  async function checkPage(check: PostureCheck, pageSize: number, bookmark: string | undefined) {
    const fingerprint = { findings: check };
    const after = bookmark ? bookmarks.decode(fingerprint, bookmark) : undefined;
    if (after !== undefined && !/^[A-Za-z0-9:_.-]{1,128}$/.test(after)) throw new InvalidBookmarkError();
    const page = await listEntry({
      reader,
      index: INDEXES.byId,
      prefixes: [findingPrefix(check)],
      shards: ctx.listShards,
      descending: false,
      after,
      pageSize,
      filters: [],
      needsDocument: false,
      readBudget: budgets.readBudget,
      byteBudget: budgets.listByteBudget,
      atLeastOne: true,
    });
    return {
      list: page.list,
      next: page.resumeAfter === undefined ? '' : bookmarks.encode(fingerprint, page.resumeAfter),
    };
  }
}
