/** DMS renewal policies and their re-evaluation jobs on the single table. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { PolicyJob, PolicyRepository } from '../../app/ports';
import { VersionConflictError } from '../../domain/errors';
import { ID_PATTERN } from '../../domain/device';
import type { DmsPolicy } from '../../domain/policy';
import type { BookmarkCodec } from './bookmark';
import { JOBS_PK, POLICIES_PK, policyJobKey, policyKey } from './keys';
import { outboxPuts } from './outbox';
import { cancellationCodes, transactWrite } from './transact';

export interface PolicyRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  bookmarks: BookmarkCodec;
}

export function policyRepository({
  client,
  tableName: TableName,
  bookmarks,
}: PolicyRepositoryOptions): PolicyRepository {
  const parse = (item: Record<string, unknown>) => JSON.parse(item.doc as string) as DmsPolicy;
  return {
    async get(dms) {
      const out = await client.send(new GetCommand({ TableName, Key: policyKey(dms), ConsistentRead: true }));
      return out.Item ? parse(out.Item) : undefined;
    },

    async getMany(dms) {
      const found = new Map<string, DmsPolicy>();
      const ids = [...new Set(dms)];
      // BatchGetItem reads at most 100 keys a call; keys it leaves unprocessed are asked again.
      for (let i = 0; i < ids.length; i += 100) {
        let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map((id) => ({ ...policyKey(id) }));
        while (keys.length > 0) {
          const out = await client.send(
            new BatchGetCommand({ RequestItems: { [TableName]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of out.Responses?.[TableName] ?? []) {
            const policy = parse(item);
            found.set(policy.id, policy);
          }
          keys = out.UnprocessedKeys?.[TableName]?.Keys ?? [];
        }
      }
      return found;
    },

    async list(pageSize, bookmark) {
      const fingerprint = { policies: true };
      // A position is the last id served.
      const after = bookmark ? bookmarks.decode(fingerprint, bookmark, (p) => ID_PATTERN.test(p)) : undefined;
      const out = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': POLICIES_PK, ':prefix': 'DMS#' },
          Limit: pageSize + 1,
          ExclusiveStartKey: after === undefined ? undefined : policyKey(after),
        }),
      );
      const items = out.Items ?? [];
      const list = items.slice(0, pageSize).map(parse);
      return { list, next: items.length > pageSize ? bookmarks.encode(fingerprint, list.at(-1)!.id) : '' };
    },

    async save(before, after, outbox) {
      const job: PolicyJob & Record<string, unknown> = {
        ...policyJobKey(after.id),
        kind: 'job',
        dms: after.id,
        progress: {},
        policyVersion: after.version,
      };
      try {
        await transactWrite(client, {
          TransactItems: [
            {
              Put: {
                TableName,
                Item: { ...policyKey(after.id), kind: 'policy', version: after.version, doc: JSON.stringify(after) },
                ...(before
                  ? {
                      ConditionExpression: '#version = :v',
                      ExpressionAttributeNames: { '#version': 'version' },
                      ExpressionAttributeValues: { ':v': before.version },
                    }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
            // A newer job replaces an unfinished older one: the newest policy is what devices must follow.
            { Put: { TableName, Item: job } },
            ...outboxPuts(TableName, outbox),
          ],
        });
      } catch (error) {
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed')
          throw new VersionConflictError(after.id, { cause: error });
        throw error;
      }
    },

    async jobs() {
      const out = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': JOBS_PK },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((item) => ({
        dms: item.dms as string,
        progress: item.progress as Record<string, string>,
        policyVersion: item.policyVersion as number,
      }));
    },

    async updateJob(job, done) {
      const condition = {
        ConditionExpression: 'policyVersion = :pv',
        ExpressionAttributeValues: { ':pv': job.policyVersion },
      };
      try {
        if (done) await client.send(new DeleteCommand({ TableName, Key: policyJobKey(job.dms), ...condition }));
        else
          await client.send(
            new PutCommand({ TableName, Item: { ...policyJobKey(job.dms), kind: 'job', ...job }, ...condition }),
          );
      } catch (error) {
        // The policy changed again: its newer job restarts the walk; this one's progress is moot.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

    async recordJobProgress(job, segment, position, segments) {
      const condition = {
        ConditionExpression: 'policyVersion = :pv',
        ExpressionAttributeValues: { ':pv': job.policyVersion },
      };
      try {
        // One attribute of the progress map: walkers of other segments write theirs concurrently.
        const out = await client.send(
          new UpdateCommand({
            TableName,
            Key: policyJobKey(job.dms),
            UpdateExpression: 'SET progress.#s = :p',
            ...condition,
            ExpressionAttributeNames: { '#s': segment },
            ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':p': position },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const progress = (out.Attributes?.progress ?? {}) as Record<string, string>;
        if (!segments.every((s) => progress[s] === 'done')) return 'running';
        await client.send(new DeleteCommand({ TableName, Key: policyJobKey(job.dms), ...condition }));
        return 'done';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return 'replaced';
      }
    },
  };
}
