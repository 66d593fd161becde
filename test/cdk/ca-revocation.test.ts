/**
 * The CA revocation call in the stack (setting caApiUrl with lamassuEvents): the rule on the bus for
 * `ca.certificate.revoke.request`, the encrypted TLS-only queue with its dead-letter queue and alarm,
 * the event source mapping with partial batch failures, a function without table access, cdk-nag green.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { DeploymentConfigError, parseConfig } from '../../lib/config';
import { CA_REVOCATION_MAX_CONCURRENCY, CA_REVOCATION_MAX_RECEIVES } from '../../lib/constructs/ca-revocation';
import { nagFindings, refOf, resourcesOf, statementsOfRole, synthesize } from './helpers';

const CA = 'https://ca.lamassu.example.com';
const on = synthesize({ stageName: 'dev', lamassuEvents: true, caApiUrl: CA });
const construct = on.stack.caRevocation!;
const idOf = (c: { node: { defaultChild?: unknown } }) => on.stack.getLogicalId(c.node.defaultChild as never);
// `any`: CloudFormation properties are asserted field by field.
const propertiesOf = (id: string) => on.template.toJSON().Resources[id].Properties as any;

describe('caApiUrl setting', () => {
  it('accepts an https URL (or http to a loopback host) with lamassuEvents', () => {
    expect(parseConfig({ lamassuEvents: true, caApiUrl: CA }).caApiUrl).toBe(CA);
    expect(parseConfig({ lamassuEvents: true, caApiUrl: 'http://127.0.0.1:8085' }).caApiUrl).toBe(
      'http://127.0.0.1:8085',
    );
    expect(parseConfig({}).caApiUrl).toBeUndefined();
  });

  it.each([
    [
      'plain http to a remote host',
      { lamassuEvents: true, caApiUrl: 'http://ca.example.com' },
      /^deviceManager\.caApiUrl must be an https URL/,
    ],
    [
      'credentials in the URL',
      { lamassuEvents: true, caApiUrl: 'https://u:p@ca.example.com' },
      /^deviceManager\.caApiUrl must be an https URL/,
    ],
    ['not a string', { lamassuEvents: true, caApiUrl: 42 }, /^deviceManager\.caApiUrl must be an https URL/],
    ['without lamassuEvents', { caApiUrl: CA }, /^deviceManager\.caApiUrl needs lamassuEvents: true/],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(DeploymentConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });
});

describe('CA revocation construct', () => {
  it('is absent unless caApiUrl is set', () => {
    const lamassuOnly = synthesize({ stageName: 'dev', lamassuEvents: true });
    expect(lamassuOnly.stack.caRevocation).toBeUndefined();
    const rules = resourcesOf(lamassuOnly.template, 'AWS::Events::Rule').map(([, r]) =>
      JSON.stringify(r.Properties ?? {}),
    );
    expect(rules.some((p) => p.includes('ca.certificate.revoke.request'))).toBe(false);
  });

  it(
    'routes the revocation requests of the stack bus to the queue, ' +
      'with the dead-letter queue for undeliverable events',
    () => {
      const rule = propertiesOf(idOf(construct.rule));
      expect(rule.EventPattern).toEqual({
        source: ['service/devmanager'],
        'detail-type': ['ca.certificate.revoke.request'],
      });
      expect(refOf(rule.EventBusName)).toBe(idOf(on.stack.events.bus));
      expect(rule.Targets).toHaveLength(1);
      expect(refOf(rule.Targets[0].Arn)).toBe(idOf(construct.queue));
      expect(refOf(rule.Targets[0].DeadLetterConfig.Arn)).toBe(idOf(construct.deadLetterQueue));
      expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
    },
  );

  it(
    'has an encrypted queue that moves a message to the dead-letter ' +
      'queue after 5 receives; both TLS-only; the DLQ alarmed',
    () => {
      const queue = propertiesOf(idOf(construct.queue));
      expect(queue).toMatchObject({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 360,
        MessageRetentionPeriod: 4 * 86400,
      });
      expect(queue.RedrivePolicy.maxReceiveCount).toBe(CA_REVOCATION_MAX_RECEIVES);
      expect(refOf(queue.RedrivePolicy.deadLetterTargetArn)).toBe(idOf(construct.deadLetterQueue));
      expect(propertiesOf(idOf(construct.deadLetterQueue))).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86400,
      });
      for (const q of [construct.queue, construct.deadLetterQueue]) {
        const policies = resourcesOf(on.template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
          (p.Properties!.Queues as unknown[]).some((r) => refOf(r) === idOf(q)),
        );
        const statements = policies.flatMap(
          ([, p]) => p.Properties!.PolicyDocument.Statement as { Effect: string; Condition?: unknown }[],
        );
        expect(statements).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
      const alarm = propertiesOf(idOf(construct.alarms[0]!));
      expect(alarm).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      expect(alarm.Dimensions).toEqual([
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(construct.deadLetterQueue), 'QueueName'] } },
      ]);
    },
  );

  it('feeds the function from the queue with partial batch failures and bounded concurrency', () => {
    const mappings = resourcesOf(on.template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => refOf(m.Properties!.EventSourceArn) === idOf(construct.queue),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      FunctionName: { Ref: idOf(construct.function.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: CA_REVOCATION_MAX_CONCURRENCY },
    });
  });

  it('gives the function the CA URL and no table: its role reads its queue and writes its logs, nothing else', () => {
    const fn = propertiesOf(idOf(construct.function.function));
    expect(fn.Environment.Variables.CA_API_URL).toBe(CA);
    expect(fn.Environment.Variables.TABLE_NAME).toBeUndefined();
    expect(fn.Timeout).toBe(60);
    const statements = statementsOfRole(on.template, idOf(construct.function.role));
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(new Set(actions.map((a) => a.split(':')[0]))).toEqual(new Set(['sqs', 'logs']));
    for (const s of statements.filter((st) => JSON.stringify(st.Action).includes('sqs:')))
      expect(refOf(s.Resource)).toBe(idOf(construct.queue));
  });

  it('with caApiAuthHeaderSecretArn, may read that one secret (GetSecretValue only) and gets its ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lamassu-ca-token-AbCdEf';
    const withAuth = synthesize({ stageName: 'dev', lamassuEvents: true, caApiUrl: CA, caApiAuthHeaderSecretArn: arn });
    const c = withAuth.stack.caRevocation!;
    const id = (x: { node: { defaultChild?: unknown } }) => withAuth.stack.getLogicalId(x.node.defaultChild as never);
    const fn = withAuth.template.toJSON().Resources[id(c.function.function)].Properties;
    expect(fn.Environment.Variables.CA_AUTH_HEADER_SECRET_ARN).toBe(arn);
    const statements = statementsOfRole(withAuth.template, id(c.function.role)).filter((st) =>
      JSON.stringify(st.Action).includes('secretsmanager:'),
    );
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: arn }]);
    expect(nagFindings(withAuth.stack)).toEqual([]);
    // Without the setting: no secret access at all.
    expect(JSON.stringify(statementsOfRole(on.template, idOf(construct.function.role)))).not.toContain(
      'secretsmanager',
    );
    expect(() =>
      parseConfig({ lamassuEvents: true, caApiUrl: CA, caApiAuthHeaderSecretArn: arn.slice(0, -7) }),
    ).toThrow(/^deviceManager\.caApiAuthHeaderSecretArn must be a complete Secrets Manager secret ARN/);
    expect(() => parseConfig({ lamassuEvents: true, caApiAuthHeaderSecretArn: arn })).toThrow(
      /^deviceManager\.caApiAuthHeaderSecretArn needs caApiUrl/,
    );
  });

  it('passes cdk-nag with nothing new to acknowledge beyond the dead-letter queue', () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(nagFindings(on.stack)).toEqual([]);
      expect(Annotations.fromStack(on.stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(on.stack).findWarning('*', Match.anyValue())).toEqual([]);
    } finally {
      printed.mockRestore();
    }
  });
});
