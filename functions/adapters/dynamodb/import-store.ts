/**
 * Server-side imports on the single table (docs/data-model.md): one partition per import holding its
 * record, a marker per piece done and an item per problem row. Nothing here is shared between
 * imports, and a piece touches the record once, when it is done.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ImportProblem, ImportRecord, ImportStore } from '../../app/ports';
import { IMPORT_ROW_PREFIX, importKey, importPieceKey, importRowKey } from './keys';
import { cancellationCodes, transactWrite } from './transact';

export interface ImportStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const RECORD_FIELDS = [
  'id',
  'format',
  'update',
  'file',
  'status',
  'created_at',
  'started_at',
  'finished_at',
  'pieces',
  'header',
  'pieces_done',
  'counts',
  'error',
] as const;

function recordOf(item: Record<string, unknown>): ImportRecord {
  const record = Object.fromEntries(RECORD_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]]));
  return record as unknown as ImportRecord;
}

const conditionFailed = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || cancellationCodes(error)?.[0] === 'ConditionalCheckFailed';

export function importStore({ client, tableName: TableName }: ImportStoreOptions): ImportStore {
  const update = async (
    id: string,
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
  ) => {
    try {
      await client.send(new UpdateCommand({ TableName, Key: importKey(id), ...input }));
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  };

  return {
    async create(record) {
      await client.send(
        new PutCommand({
          TableName,
          Item: { ...importKey(record.id), kind: 'import', ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async get(id) {
      const out = await client.send(new GetCommand({ TableName, Key: importKey(id), ConsistentRead: true }));
      return out.Item ? recordOf(out.Item) : undefined;
    },

    start: (id, at) =>
      update(id, {
        UpdateExpression: 'SET #s = :running, started_at = :at',
        ConditionExpression: '#s = :awaiting',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING', ':awaiting': 'AWAITING_UPLOAD', ':at': at },
      }),

    async planned(id, pieces, header) {
      await update(id, {
        UpdateExpression: header ? 'SET pieces = :p, header = :h' : 'SET pieces = :p',
        ExpressionAttributeValues: { ':p': pieces, ...(header ? { ':h': header } : {}) },
      });
    },

    async fail(id, error, at) {
      await update(id, {
        UpdateExpression: 'SET #s = :failed, #e = :e, finished_at = :at',
        ConditionExpression: '#s = :running',
        ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
        ExpressionAttributeValues: { ':failed': 'FAILED', ':running': 'RUNNING', ':e': error, ':at': at },
      });
    },

    async pieceDone(id, piece) {
      const out = await client.send(
        new GetCommand({ TableName, Key: importPieceKey(id, piece), ConsistentRead: true, ProjectionExpression: 'pk' }),
      );
      return out.Item !== undefined;
    },

    async completePiece(id, piece, counts, problems) {
      // Problem rows first, keyed by line: a piece imported twice writes the same items again.
      for (let i = 0; i < problems.length; i += 25) {
        let requests: Record<string, unknown>[] | undefined = problems.slice(i, i + 25).map((problem) => ({
          PutRequest: { Item: { ...importRowKey(id, problem.line), kind: 'import-row', doc: JSON.stringify(problem) } },
        }));
        for (let attempt = 0; requests && requests.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          const out = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: requests as never } }));
          requests = out.UnprocessedItems?.[TableName] as Record<string, unknown>[] | undefined;
        }
      }
      const names: Record<string, string> = {};
      const values: Record<string, number> = { ':one': 1 };
      const adds = ['pieces_done :one'];
      Object.entries(counts).forEach(([outcome, n], i) => {
        names[`#c${i}`] = outcome;
        values[`:c${i}`] = n;
        adds.push(`counts.#c${i} :c${i}`);
      });
      try {
        await transactWrite(client, {
          TransactItems: [
            {
              Put: {
                TableName,
                Item: { ...importPieceKey(id, piece), kind: 'import-piece', counts },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName,
                Key: importKey(id),
                UpdateExpression: `ADD ${adds.join(', ')}`,
                ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
                ExpressionAttributeValues: values,
              },
            },
          ],
        });
        return true;
      } catch (error) {
        if (conditionFailed(error)) return false;
        throw error;
      }
    },

    async finish(id, at) {
      await update(id, {
        UpdateExpression: 'SET #s = :done, finished_at = :at',
        ConditionExpression: '#s = :running AND pieces_done >= pieces',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':done': 'DONE', ':running': 'RUNNING', ':at': at },
      });
    },

    async problems(id, limit, after) {
      const out = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :rows)',
          ExpressionAttributeValues: { ':pk': importKey(id).pk, ':rows': IMPORT_ROW_PREFIX },
          ...(after === undefined ? {} : { ExclusiveStartKey: importRowKey(id, after) }),
          Limit: limit,
        }),
      );
      const list = (out.Items ?? []).map((item) => JSON.parse(item.doc as string) as ImportProblem);
      return { list, last: out.LastEvaluatedKey ? list.at(-1)?.line : undefined };
    },
  };
}
