/** Remediation jobs on the single table (docs/data-model.md, Remediation jobs): JobStore. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { JobStore } from '../../app/ports';
import { ID_PATTERN } from '../../domain/device';
import { isFinished, type Job, type JobDeviceOutcome } from '../../domain/jobs';
import type { BookmarkCodec } from './bookmark';
import { jobOutcomePut } from './device-writes';
import {
  jobOutcomeKey,
  REMEDIATION_JOBS_PK,
  remediationJobKey,
  type TableKey,
  UNFINISHED_JOBS_PK,
  unfinishedJobKey,
} from './keys';
import { outboxPuts } from './outbox';
import { cancellationCodes, transactWrite } from './transact';

export interface JobStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  bookmarks: BookmarkCodec;
  /** Days a per-device outcome is kept before TTL deletes it (JOB_RETENTION_DAYS); for ever when absent. */
  jobRetentionDays?: number;
}

const JOB_ID = /^job-[0-9TZ]+-[A-Za-z0-9]{1,12}$/;

export function jobStore({ client, tableName: TableName, bookmarks, jobRetentionDays }: JobStoreOptions): JobStore {
  const outcomeTtl = jobRetentionDays === undefined ? undefined : jobRetentionDays * 86_400;
  const jobItem = (job: Job) => ({
    ...remediationJobKey(job.id),
    kind: 'job',
    version: job.version,
    doc: JSON.stringify(job),
  });

  /** One page of a partition's items by sort key, after the position a bookmark holds. */
  async function page<T>(
    pk: string,
    key: (position: string) => TableKey,
    valid: (position: string) => boolean,
    forward: boolean,
    pageSize: number,
    bookmark: string | undefined,
    parse: (doc: string) => T,
    positionOf: (value: T) => string,
  ) {
    const fingerprint = { jobs: pk };
    const after = bookmark ? bookmarks.decode(fingerprint, bookmark, valid) : undefined;
    const out = await client.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: forward,
        Limit: pageSize + 1,
        ExclusiveStartKey: after === undefined ? undefined : key(after),
      }),
    );
    const items = out.Items ?? [];
    const list = items.slice(0, pageSize).map((item) => parse(item.doc as string));
    return { list, next: items.length > pageSize ? bookmarks.encode(fingerprint, positionOf(list.at(-1)!)) : '' };
  }

  return {
    async create(job, outbox) {
      await transactWrite(client, {
        TransactItems: [
          { Put: { TableName, Item: jobItem(job), ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName, Item: { ...unfinishedJobKey(job.id), kind: 'job-unfinished', job_id: job.id } } },
          ...outboxPuts(TableName, outbox),
        ],
      });
    },

    async get(id) {
      const out = await client.send(new GetCommand({ TableName, Key: remediationJobKey(id), ConsistentRead: true }));
      return out.Item ? (JSON.parse(out.Item.doc as string) as Job) : undefined;
    },

    list(pageSize, bookmark) {
      return page(
        REMEDIATION_JOBS_PK,
        remediationJobKey,
        (p) => JOB_ID.test(p),
        false,
        pageSize,
        bookmark,
        (doc) => JSON.parse(doc) as Job,
        (job) => job.id,
      );
    },

    async save(before, after, outbox) {
      try {
        await transactWrite(client, {
          TransactItems: [
            {
              Put: {
                TableName,
                Item: jobItem(after),
                ConditionExpression: '#version = :v',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':v': before.version },
              },
            },
            ...(isFinished(after) && !isFinished(before)
              ? [{ Delete: { TableName, Key: unfinishedJobKey(after.id) } }]
              : []),
            ...outboxPuts(TableName, outbox),
          ],
        });
        return true;
      } catch (error) {
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
        throw error;
      }
    },

    async unfinished() {
      const ids: string[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': UNFINISHED_JOBS_PK },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of out.Items ?? []) ids.push(item.job_id as string);
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return ids;
    },

    async putOutcome(outcome) {
      try {
        await client.send(new PutCommand(jobOutcomePut(TableName, outcome, outcomeTtl).Put));
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    async getOutcome(jobId, deviceId) {
      const out = await client.send(
        new GetCommand({ TableName, Key: jobOutcomeKey(jobId, deviceId), ConsistentRead: true }),
      );
      return out.Item ? (JSON.parse(out.Item.doc as string) as JobDeviceOutcome) : undefined;
    },

    outcomes(jobId, pageSize, bookmark) {
      return page(
        jobOutcomeKey(jobId, '').pk,
        (device) => jobOutcomeKey(jobId, device),
        (p) => ID_PATTERN.test(p),
        true,
        pageSize,
        bookmark,
        (doc) => JSON.parse(doc) as JobDeviceOutcome,
        (outcome) => outcome.device_id,
      );
    },
  };
}
