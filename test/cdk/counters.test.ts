/**
 * The counter applier in the stack (lib/constructs/counters.ts): a stream consumer of device items
 * only, in commit order per shard, never skipping a record silently, with exactly the table actions it
 * uses and alarms on its dead-letter queue and its lag.
 */
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { COUNTER_APPLIER_TABLE_ACTIONS, COUNTER_LAG_ALARM } from '../../lib/constructs/counters';
import { STREAM_READ_ACTIONS } from '../../lib/constructs/events';
import { loadConfig } from '../../functions/runtime/config';
import { asArray, refOf, resourcesOf, statementsOfRole, type Synthesized, synthesize } from './helpers';

let dev: Synthesized;
beforeAll(() => {
  dev = synthesize({ statsShards: 8 });
});

const idOf = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnFunction);
const resource = (s: Synthesized, id: string) =>
  s.template.toJSON().Resources[id] as { Type: string; Properties: Record<string, any> };
const tableId = (s: Synthesized) => resourcesOf(s.template, 'AWS::DynamoDB::Table')[0]![0];

it(
  'is fed by the table stream: device items ' +
    'only (created, changed, deleted), in order, ' +
    'bisected, retried, then the DLQ',
  () => {
    const fn = idOf(dev, dev.stack.counters.function.function);
    const mappings = resourcesOf(dev.template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => refOf(m.Properties!.FunctionName) === fn,
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toEqual({
      FunctionName: { Ref: fn },
      EventSourceArn: { 'Fn::GetAtt': [tableId(dev), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 100,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [idOf(dev, dev.stack.counters.deadLetterQueue), 'Arn'] } },
      },
      FilterCriteria: {
        Filters: [
          { Pattern: JSON.stringify({ dynamodb: { NewImage: { kind: { S: ['device', 'connectivity'] } } } }) },
          { Pattern: JSON.stringify({ dynamodb: { OldImage: { kind: { S: ['device', 'connectivity'] } } } }) },
        ],
      },
    });
  },
);

it(
  'may only put markers, update and read counters ' +
    'in the table, read its streams, send to its ' +
    'DLQ and write its logs',
  () => {
    const fn = resource(dev, idOf(dev, dev.stack.counters.function.function));
    const statements = statementsOfRole(dev.template, refOf(fn.Properties.Role)!);
    const actions = statements.flatMap((s) => asArray(s.Action)).sort();
    expect(actions).toEqual(
      [
        ...COUNTER_APPLIER_TABLE_ACTIONS,
        // The shared-findings reconciler's Query, on the indexes (`<table ARN>/index/*`).
        'dynamodb:Query',
        ...STREAM_READ_ACTIONS,
        'sqs:SendMessage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    const table = statements.find((s) => asArray(s.Action).includes('dynamodb:PutItem'))!;
    expect(table.Resource).toEqual({ 'Fn::GetAtt': [tableId(dev), 'Arn'] });
  },
);

it("gets the table and the deployment's stats shards, which the runtime loader reads back", () => {
  const variables = resource(dev, idOf(dev, dev.stack.counters.function.function)).Properties.Environment.Variables;
  expect(variables).toMatchObject({ TABLE_NAME: { Ref: tableId(dev) }, STATS_SHARDS: '8' });
  expect(loadConfig({ ...variables, TABLE_NAME: 't' })).toMatchObject({ tableName: 't', statsShards: 8 });
});

it('alarms on its dead-letter queue and when the counters lag the changes', () => {
  const alarms = resourcesOf(dev.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
  const lag = alarms.find((a) => a.MetricName === 'IteratorAge' && String(a.AlarmDescription).includes('counters'));
  expect(lag).toMatchObject({
    Threshold: COUNTER_LAG_ALARM.toMilliseconds(),
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(dev, dev.stack.counters.function.function) } }],
  });
  const dlq = idOf(dev, dev.stack.counters.deadLetterQueue);
  expect(
    alarms.some(
      (a) =>
        a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        JSON.stringify(a.Dimensions).includes(dlq) &&
        a.Threshold === 0,
    ),
  ).toBe(true);
});
