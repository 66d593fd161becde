/** Operations (docs/operations.md): alarms on every function, the sweeper and the outbox stream; DLQs; partitions. */
import { isXray, resourcesOf, refOf, statementsOfRole, synthesize, type Synthesized } from './helpers';

const withIot = synthesize({ iotSync: { enabled: true, metadataKeys: ['firmware_version'] } });

type Props = Record<string, any>;
const alarms = (s: Synthesized): Props[] =>
  resourcesOf(s.template, 'AWS::CloudWatch::Alarm').map(([id, r]) => ({ id, ...(r.Properties as Props) }));
const functionOf = (alarm: Props) => refOf(alarm.Dimensions?.find((d: Props) => d.Name === 'FunctionName')?.Value);

describe('alarms', () => {
  it('every function of the stack is in an error alarm, ten at most per alarm', () => {
    const functions = resourcesOf(withIot.template, 'AWS::Lambda::Function').map(([id]) => id);
    expect(functions.length).toBeGreaterThan(20);
    const errorAlarms = alarms(withIot).filter((a) => a.Metrics?.some((m: Props) => m.MetricStat));
    const watchedBy = (a: Props) =>
      a.Metrics.filter((m: Props) => m.MetricStat?.Metric.MetricName === 'Errors').map((m: Props) =>
        refOf(m.MetricStat.Metric.Dimensions.find((d: Props) => d.Name === 'FunctionName').Value),
      );
    const alarmed = new Set([
      ...errorAlarms.flatMap(watchedBy),
      ...alarms(withIot)
        .filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors')
        .map(functionOf),
    ]);
    expect(functions.filter((f) => !alarmed.has(f))).toEqual([]);
    const iotSync = withIot.stack.resolve(
      (withIot.stack.iotSync!.function.function.node.defaultChild as any).logicalId,
    );
    const ofSync = errorAlarms.filter((a) => watchedBy(a).includes(iotSync));
    expect(ofSync).toHaveLength(1);
    const [alarm] = ofSync as [Props];
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    expect(alarm.TreatMissingData).toBe('notBreaching');
    expect(watchedBy(alarm).length).toBeLessThanOrEqual(10);
    // The sum treats a function without datapoints as 0 errors, so one quiet function cannot blank it.
    const sum = alarm.Metrics.find((m: Props) => m.Expression);
    expect(sum.Expression.split(' + ')).toHaveLength(watchedBy(alarm).length);
    expect(sum.Expression).toMatch(/^FILL\(e0, 0\)/);
    for (const m of alarm.Metrics.filter((x: Props) => x.MetricStat))
      expect(m.MetricStat).toMatchObject({ Stat: 'Sum', Period: 300 });
  });

  it('watches the iterator age of the outbox stream mapping', () => {
    const publisher = withIot.stack.resolve(
      (withIot.stack.events.publisher.function.node.defaultChild as any).logicalId,
    );
    // The counter applier's lag has its own alarm (test/cdk/counters.test.ts).
    const counters = withIot.stack.resolve(
      (withIot.stack.counters.function.function.node.defaultChild as any).logicalId,
    );
    const age = alarms(withIot).filter((a) => a.MetricName === 'IteratorAge' && functionOf(a) !== counters);
    expect(age).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 600000,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      }),
    ]);
    expect(functionOf(age[0]!)).toBe(publisher);
  });

  it.each([
    [1, 120, 'breaching'],
    [5, 600, 'breaching'],
    [60, 7200, 'breaching'],
    [720, 86400, 'breaching'],
    [1440, 86400, 'missing'],
  ])(
    'SweepLag with sweepRateMinutes %i: period %i s, missing data %s, threshold two intervals',
    (rate, period, missing) => {
      const lag = alarms(synthesize({ sweepRateMinutes: rate })).filter((a) => a.id.startsWith('MonitoringSweepLag'));
      expect(lag).toEqual([
        expect.objectContaining({
          Period: period,
          TreatMissingData: missing,
          Threshold: 2 * rate * 60,
          EvaluationPeriods: 1,
          Statistic: 'Maximum',
        }),
      ]);
    },
  );
});

it('the IoT sync rule dead-letters what it cannot deliver to the queue', () => {
  const rule = resourcesOf(withIot.template, 'AWS::Events::Rule').find(([id]) =>
    id.startsWith('IotSyncDeviceEventsRule'),
  )![1].Properties as Props;
  const dlq = withIot.stack.resolve((withIot.stack.iotSync!.deadLetterQueue.node.defaultChild as any).logicalId);
  expect(rule.Targets).toEqual([
    expect.objectContaining({
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
    }),
  ]);
  // EventBridge may send to the DLQ.
  const policies = resourcesOf(withIot.template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
    (p.Properties!.Queues as unknown[]).some((q) => refOf(q) === dlq),
  );
  expect(JSON.stringify(policies)).toContain('events.amazonaws.com');
});

it('names no partition: every ARN is built from AWS::Partition (GovCloud, China)', () => {
  for (const s of [withIot, synthesize()]) {
    const text = JSON.stringify(s.template.toJSON());
    expect(text.match(/arn:aws[a-z-]*:/g) ?? []).toEqual([]);
    expect(text).toContain('"Ref":"AWS::Partition"');
  }
});

describe('tracing (Powertools Tracer, X-Ray)', () => {
  it.each([
    ['off by default', withIot, false],
    ['on with tracing: true', synthesize({ tracing: true, iotSync: { enabled: true, metadataKeys: [] } }), true],
  ])('%s: active tracing, its X-Ray grant and the Tracer switch on every function', (_name, s, on) => {
    const functions = resourcesOf(s.template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(20);
    for (const [, fn] of functions) {
      const props = fn.Properties as Props;
      expect(props.TracingConfig).toEqual(on ? { Mode: 'Active' } : undefined);
      expect(props.Environment?.Variables?.POWERTOOLS_TRACE_ENABLED).toBe(on ? 'true' : undefined);
      const xray = statementsOfRole(s.template, refOf(props.Role)!, { xray: true }).filter(isXray);
      expect(xray).toHaveLength(on ? 1 : 0);
    }
  });

  it('refuses a tracing setting that is not a boolean', () => {
    expect(() => synthesize({ tracing: 'yes' })).toThrow('deviceManager.tracing must be true or false');
  });
});
