import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { DISPATCHER_TABLE_ACTIONS } from '../../lib/constructs/sweeper';
import {
  asArray,
  refOf,
  resourcesOf,
  statementsOfRole,
  type Synthesized,
  synthesize,
  defaultTableEnvironment,
} from './helpers';

/** The write level (pages hydrated by BatchGetItem), and BatchWriteItem (a server-side import's report rows). */
const SWEEPER_TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
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

function workerOf(s: Synthesized): { id: string; props: Record<string, any> } {
  const id = s.stack.getLogicalId(s.stack.sweeper.worker.function.node.defaultChild as CfnFunction);
  return { id, props: s.template.toJSON().Resources[id].Properties };
}

const queueIds = (s: Synthesized) =>
  [s.stack.sweeper.transitionsQueue, s.stack.sweeper.jobsQueue].map((q) =>
    s.stack.getLogicalId(q.node.defaultChild as CfnQueue),
  );

describe('the sweep dispatcher', () => {
  it('runs nodejs22.x on arm64 with 512 MB and a 1 minute timeout, without reserved concurrency', () => {
    const { props } = sweeperOf(dev);
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 60,
      Handler: 'index.handler',
    });
    // Overlapping sweeps are safe (one conditional write per device): nothing to serialise.
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    expect(props.Description).toBe('Status sweep dispatcher (every 5 min)');
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

  it('gets the table settings and both queue URLs', () => {
    const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
    const [transitions, jobs] = queueIds(dev);
    const bucket = resourcesOf(dev.template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('ImportsFiles'))![0];
    for (const [fn, worker] of [
      [sweeperOf(dev), false],
      [workerOf(dev), true],
    ] as const)
      expect(fn.props.Environment.Variables).toEqual({
        ...defaultTableEnvironment(tableId),
        SWEEP_QUEUE_URL: { Ref: transitions },
        JOB_QUEUE_URL: { Ref: jobs },
        // The worker reads server-side import files (lib/constructs/imports.ts) and keeps job outcomes.
        ...(worker ? { IMPORT_BUCKET: { Ref: bucket }, JOB_RETENTION_DAYS: '90' } : {}),
      });
  });

  it('may read the due heads and jobs, write the run marker, send to both queues, log, and nothing else', () => {
    const fn = sweeperOf(dev);
    const statements = statementsOfRole(dev.template, refOf(fn.props.Role)!);
    const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const normalised = statements.map((s) => ({ ...s, Action: [...asArray(s.Action)].sort() }));
    expect(normalised).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: [...DISPATCHER_TABLE_ACTIONS].sort(), Resource: tableArn },
        {
          Effect: 'Allow',
          Action: ['sqs:SendMessage'],
          Resource: expect.arrayContaining(queueIds(dev).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))),
        },
      ]),
    );
    const actions = normalised.flatMap((s) => s.Action);
    expect(actions.filter((a) => !/^(dynamodb|logs):/.test(a))).toEqual(['sqs:SendMessage']);
    expect(actions).not.toContain('dynamodb:TransactWriteItems');
  });
});

describe('the job worker and its queues', () => {
  it('runs nodejs22.x on arm64 with 512 MB and a 5 minute timeout', () => {
    expect(workerOf(dev).props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 300,
    });
  });

  it('takes one task per invocation from each queue, bounded by sweepWorkers and jobWorkers', () => {
    const s = synthesize({ sweepWorkers: 48, jobWorkers: 3 });
    const [transitions, jobs] = queueIds(s);
    const mappings = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => refOf(m.Properties!.FunctionName) === workerOf(s).id,
    );
    expect(
      mappings
        .map(([, m]) => m.Properties)
        .sort((a, b) => a!.ScalingConfig.MaximumConcurrency - b!.ScalingConfig.MaximumConcurrency),
    ).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [jobs, 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 3 },
      }),
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [transitions, 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 48 },
      }),
    ]);
  });

  it('queues are encrypted, TLS-only, and dead-letter a task after 3 receives', () => {
    const resources = dev.template.toJSON().Resources;
    for (const id of queueIds(dev))
      expect(resources[id].Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 1800,
        RedrivePolicy: { maxReceiveCount: 3 },
      });
  });

  it('may do the reads and writes of a sweep, Query the indexes, send tasks, consume its queues, log', () => {
    const fn = workerOf(dev);
    const statements = statementsOfRole(dev.template, refOf(fn.props.Role)!);
    const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const indexArn = { 'Fn::Join': ['', [tableArn, '/index/*']] };
    const normalised = statements.map((s) => ({ ...s, Action: [...asArray(s.Action)].sort() }));
    expect(normalised).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: SWEEPER_TABLE_ACTIONS, Resource: tableArn },
        { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: indexArn },
      ]),
    );
    const sqs = normalised.find((st) => st.Action.some((a: string) => a.startsWith('sqs:')))!;
    expect(sqs.Resource).toHaveLength(2);
    expect(sqs.Resource).toEqual(expect.arrayContaining(queueIds(dev).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))));
    const actions = new Set(normalised.flatMap((s) => s.Action));
    expect([...actions].filter((a) => !/^(dynamodb|logs):/.test(a)).sort()).toEqual([
      // Pieces of server-side import files (lib/constructs/imports.ts).
      's3:GetObject',
      's3:ListBucket',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    // A sweep hydrates its list pages by key: without BatchGetItem it is denied on the first due device.
    expect(actions.has('dynamodb:BatchGetItem')).toBe(true);
    expect(actions.has('dynamodb:Scan')).toBe(false);
  });
});
