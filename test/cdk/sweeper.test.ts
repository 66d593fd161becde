import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import {
  asArray,
  refOf,
  resourcesOf,
  statementsOfRole,
  type Synthesized,
  synthesize,
  defaultTableEnvironment,
} from './helpers';

/** The write level: list pages (due devices, a DMS's devices, the metadata back-fill) are hydrated by BatchGetItem. */
const SWEEPER_TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

let dev: Synthesized;
beforeAll(() => {
  dev = synthesize();
});

function sweeperOf(s: Synthesized): { id: string; props: Record<string, any> } {
  const id = s.stack.getLogicalId(s.stack.sweeper.function.function.node.defaultChild as CfnFunction);
  return { id, props: s.template.toJSON().Resources[id].Properties };
}

describe('the sweep schedule', () => {
  it('is one enabled rule that runs every 5 minutes by default and targets only the sweeper', () => {
    // The schedules (the event rules on the bus are test/cdk/events.test.ts's).
    const rules = resourcesOf(dev.template, 'AWS::Events::Rule').filter(
      ([, r]) => r.Properties?.ScheduleExpression !== undefined,
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties!;
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.State).toBe('ENABLED');
    // A schedule, not a pattern on some bus.
    expect(rule.EventPattern).toBeUndefined();
    expect(rule.Targets).toEqual([{ Id: expect.any(String), Arn: { 'Fn::GetAtt': [sweeperOf(dev).id, 'Arn'] } }]);
  });

  it.each([
    [1, 'rate(1 minute)'],
    [15, 'rate(15 minutes)'],
    [90, 'rate(90 minutes)'],
  ])('follows sweepRateMinutes %i: %s', (minutes, expression) => {
    const { template } = synthesize({ sweepRateMinutes: minutes });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expression });
  });

  it('may be invoked by EventBridge only from that rule', () => {
    const ruleId = resourcesOf(dev.template, 'AWS::Events::Rule').find(
      ([, r]) => r.Properties?.ScheduleExpression !== undefined,
    )![0];
    const fromEvents = resourcesOf(dev.template, 'AWS::Lambda::Permission').filter(
      ([, p]) =>
        p.Properties!.Principal === 'events.amazonaws.com' &&
        JSON.stringify(p.Properties!.FunctionName).includes(`"${sweeperOf(dev).id}"`),
    );
    expect(fromEvents.map(([, p]) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [sweeperOf(dev).id, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });
});

describe('the sweeper function', () => {
  it('runs nodejs22.x on arm64 with 512 MB and a 5 minute timeout, without reserved concurrency', () => {
    const { props } = sweeperOf(dev);
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 300,
      Handler: 'index.handler',
    });
    // Overlapping sweeps are safe (one conditional write per device): nothing to serialise.
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    expect(props.Description).toBe('Status sweeper (every 5 min)');
  });

  it('is not retried after a failed run: the next scheduled run is the retry', () => {
    const configs = resourcesOf(dev.template, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, c]) => refOf(c.Properties!.FunctionName) === sweeperOf(dev).id,
    );
    expect(configs.map(([, c]) => c.Properties)).toEqual([
      { FunctionName: { Ref: sweeperOf(dev).id }, Qualifier: '$LATEST', MaximumRetryAttempts: 0 },
    ]);
  });

  it('logs to its own log group with the configured retention', () => {
    const logGroupId = refOf(sweeperOf(dev).props.LoggingConfig?.LogGroup)!;
    expect(dev.template.toJSON().Resources[logGroupId]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
  });

  it('gets the table settings', () => {
    const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
    expect(sweeperOf(dev).props.Environment.Variables).toEqual(defaultTableEnvironment(tableId));
  });

  it(
    'may do exactly the item reads and writes of a sweep on the ' +
      'table, Query on its indexes, write its logs, and nothing ' +
      'else',
    () => {
      const fn = sweeperOf(dev);
      const statements = statementsOfRole(dev.template, refOf(fn.props.Role)!);
      const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
      const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
      const indexArn = { 'Fn::Join': ['', [tableArn, '/index/*']] };
      const logGroupArn = { 'Fn::GetAtt': [refOf(fn.props.LoggingConfig.LogGroup), 'Arn'] };

      const normalised = statements.map((s) => ({ ...s, Action: [...asArray(s.Action)].sort() }));
      expect(normalised).toHaveLength(3);
      expect(normalised).toEqual(
        expect.arrayContaining([
          { Effect: 'Allow', Action: SWEEPER_TABLE_ACTIONS, Resource: tableArn },
          { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: indexArn },
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroupArn },
        ]),
      );
      // The outbox publisher talks to EventBridge and IoT; the sweeper only writes outbox items.
      const actions = normalised.flatMap((s) => s.Action);
      expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('logs:'))).toEqual([]);
      // A sweep hydrates its list pages by key: without BatchGetItem it is denied on the first due device.
      expect(actions).toContain('dynamodb:BatchGetItem');
      expect(actions).not.toContain('dynamodb:Scan');
    },
  );
});
