/**
 * The expression cache (packages/local-engine/src/expression-cache.ts): an expression is parsed once,
 * and a cached parse behaves as a fresh one: each request's own values, dynalite's errors for
 * unused names and values, and expressions whose parse depends on values parsed every time.
 */
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { expressionCacheCounts } from '@device-manager/local-engine';
import { createTable, startHarness, type Harness } from './support';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client, 'cache', { hash: 'pk' });
});
afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const N = (value: number) => ({ N: String(value) });

/** A conditioned version bump, the shape of a device change. */
const bump = (expected: number, extra: Record<string, { S: string }> = {}) =>
  h.client.send(
    new UpdateItemCommand({
      TableName: 'cache',
      Key: { pk: S('d') },
      UpdateExpression: 'SET #v = :next',
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': N(expected), ':next': N(expected + 1), ...extra },
    }),
  );

it('parses an expression once and evaluates each request with its own values', async () => {
  await h.client.send(new PutItemCommand({ TableName: 'cache', Item: { pk: S('d'), version: N(1) } }));
  const before = { ...expressionCacheCounts };
  await bump(1);
  await bump(2);
  await bump(3);
  expect(expressionCacheCounts.hits - before.hits).toBeGreaterThanOrEqual(4);
  expect(expressionCacheCounts.parses - before.parses).toBeLessThanOrEqual(2);
  // A cached condition still compares with this request's value: version is 4, not 3.
  await expect(bump(3)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  const got = await h.client.send(new GetItemCommand({ TableName: 'cache', Key: { pk: S('d') } }));
  expect(got.Item?.version).toEqual(N(4));
});

it('still refuses a value no expression uses, cached or not', async () => {
  for (let i = 0; i < 2; i++)
    await expect(bump(4, { ':spare': S('x') })).rejects.toThrow(
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:spare}',
    );
});

it('counts a name as used by the cached expression even when another expression used it first', async () => {
  // First: the update and the condition both use #v; then a request whose update does not.
  await bump(4);
  await h.client.send(
    new UpdateItemCommand({
      TableName: 'cache',
      Key: { pk: S('d') },
      UpdateExpression: 'SET note = :next',
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': N(5), ':next': S('y') },
    }),
  );
  const got = await h.client.send(new GetItemCommand({ TableName: 'cache', Key: { pk: S('d') } }));
  expect(got.Item?.note).toEqual(S('y'));
});

it('parses BETWEEN each time, so its bounds are checked with the request values', async () => {
  const between = (low: number, high: number) =>
    h.client.send(
      new UpdateItemCommand({
        TableName: 'cache',
        Key: { pk: S('d') },
        UpdateExpression: 'SET seen = :low',
        ConditionExpression: 'version BETWEEN :low AND :high',
        ExpressionAttributeValues: { ':low': N(low), ':high': N(high) },
      }),
    );
  await between(1, 9);
  await expect(between(9, 1)).rejects.toThrow('The BETWEEN operator requires upper bound to be greater than');
});
