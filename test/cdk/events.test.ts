/**
 * The events part of the stack (lib/constructs/events.ts, lib/constructs/iot-sync.ts): bus, archive,
 * publisher and its stream mapping, certificate intake, the IoT sync pipeline when enabled,
 * dead-letter queues with depth alarms, and least-privilege grants.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { DeploymentConfigError, parseConfig } from '../../lib/config';
import {
  CERTIFICATE_INTAKE_TABLE_ACTIONS,
  certificateMaxReceives,
  STREAM_READ_ACTIONS,
} from '../../lib/constructs/events';
import {
  IOT_CERTIFICATE_ACTIONS,
  IOT_ENDPOINT_ACTIONS,
  IOT_SHADOW_ACTIONS,
  IOT_JITP_ACTIONS,
  IOT_PROVISIONING_ACTIONS,
  IOT_THING_ACTIONS,
} from '../../lib/constructs/iot-sync';
import { loadIotSyncConfig, loadPublisherConfig } from '../../functions/runtime/config';
import {
  asArray,
  nagFindings,
  refOf,
  resourcesOf,
  type Statement,
  statementsOfRole,
  type Synthesized,
  synthesize,
} from './helpers';

let dev: Synthesized;
let iot: Synthesized;
beforeAll(() => {
  dev = synthesize();
  iot = synthesize({
    iotSync: {
      enabled: true,
      metadataKeys: ['firmware_version', 'location'],
      decommissionCertificateStatus: 'REVOKED',
      apiRates: { UpdateCertificate: 20 },
    },
  });
});

/** Logical id of an L2 construct's resource, or of an L1 resource itself. */
const idOf = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnFunction);
const resource = (s: Synthesized, id: string) =>
  s.template.toJSON().Resources[id] as { Type: string; Properties: Record<string, any> };
const tableId = (s: Synthesized) => resourcesOf(s.template, 'AWS::DynamoDB::Table')[0]![0];
const tableArn = (s: Synthesized) => ({ 'Fn::GetAtt': [tableId(s), 'Arn'] });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const sorted = (statements: Statement[]) =>
  statements
    .map((st) => ({ ...st, Action: asArray(st.Action).sort() }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

function roleStatements(s: Synthesized, fn: { function: { node: { defaultChild?: unknown } } }): Statement[] {
  return statementsOfRole(s.template, refOf(resource(s, idOf(s, fn.function)).Properties.Role)!);
}
function logsStatement(s: Synthesized, fn: { function: { node: { defaultChild?: unknown } } }): Statement {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: arnOf(refOf(resource(s, idOf(s, fn.function)).Properties.LoggingConfig.LogGroup)!),
  };
}

describe('the bus', () => {
  it('is the stack’s own bus, named after the stage, exported as EventBusName', () => {
    const buses = resourcesOf(dev.template, 'AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    expect(buses[0]![1].Properties).toMatchObject({ Name: 'device-manager-dev' });
    dev.template.hasOutput('EventBusName', { Value: { Ref: buses[0]![0] } });
  });

  it('archives every event of the configured source for replay (90 days)', () => {
    const busId = resourcesOf(dev.template, 'AWS::Events::EventBus')[0]![0];
    dev.template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: arnOf(busId),
      EventPattern: { source: ['device-manager'] },
      RetentionDays: 90,
    });
    synthesize({ eventSource: 'acme.dm' }).template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['acme.dm'] },
    });
  });
});

describe('the outbox publisher', () => {
  it(
    'is fed by the table stream: INSERTs of outbox records only, ' +
      'bisected, partial failures reported, bounded retries, then ' +
      'the DLQ',
    () => {
      const mappings = resourcesOf(dev.template, 'AWS::Lambda::EventSourceMapping').filter(
        ([, m]) => refOf(m.Properties!.FunctionName) === idOf(dev, dev.stack.events.publisher.function),
      );
      expect(mappings).toHaveLength(1);
      expect(mappings[0]![1].Properties).toEqual({
        FunctionName: { Ref: idOf(dev, dev.stack.events.publisher.function) },
        EventSourceArn: { 'Fn::GetAtt': [tableId(dev), 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10,
        DestinationConfig: { OnFailure: { Destination: arnOf(idOf(dev, dev.stack.events.publishDeadLetterQueue)) } },
        FilterCriteria: {
          Filters: [
            { Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['outbox'] } } } }) },
          ],
        },
      });
    },
  );

  it('gets the bus, the source and the DLQ, which the runtime loader reads back', () => {
    const variables = resource(dev, idOf(dev, dev.stack.events.publisher.function)).Properties.Environment.Variables;
    expect(variables).toEqual({
      EVENT_BUS_NAME: { Ref: resourcesOf(dev.template, 'AWS::Events::EventBus')[0]![0] },
      EVENT_SOURCE: 'device-manager',
      PUBLISH_DLQ_URL: { Ref: idOf(dev, dev.stack.events.publishDeadLetterQueue) },
    });
    const s = synthesize({ eventSource: 'acme.device-manager' });
    const env = {
      ...resource(s, idOf(s, s.stack.events.publisher.function)).Properties.Environment.Variables,
      EVENT_BUS_NAME: 'bus',
      PUBLISH_DLQ_URL: 'https://sqs/dlq',
    };
    expect(loadPublisherConfig(env)).toMatchObject({
      eventBusName: 'bus',
      eventSource: 'acme.device-manager',
      deadLetterQueueUrl: 'https://sqs/dlq',
    });
  });

  it('may only put events on the bus, send to its DLQ, read the table’s streams and write its logs', () => {
    const events = dev.stack.events;
    expect(sorted(roleStatements(dev, events.publisher))).toEqual(
      sorted([
        logsStatement(dev, events.publisher),
        {
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: arnOf(resourcesOf(dev.template, 'AWS::Events::EventBus')[0]![0]),
        },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arnOf(idOf(dev, events.publishDeadLetterQueue)) },
        {
          Effect: 'Allow',
          Action: [...STREAM_READ_ACTIONS],
          Resource: { 'Fn::Join': ['', [tableArn(dev), '/stream/*']] },
        },
      ]),
    );
  });
});

describe('the certificate intake', () => {
  it(
    'is fed by a queue that a rule on certificate.status.update ' +
      "from the CA's source fills; retried every minute for the " +
      'unknown-serial window, then the DLQ',
    () => {
      const events = dev.stack.events;
      const intake = idOf(dev, events.certificateIntake.function);
      const dlq = arnOf(idOf(dev, events.certificateDeadLetterQueue));
      const queueId = idOf(dev, events.certificateQueue);
      const rule = resource(dev, idOf(dev, events.certificateRule)).Properties;
      expect(rule).toMatchObject({
        EventBusName: { Ref: resourcesOf(dev.template, 'AWS::Events::EventBus')[0]![0] },
        EventPattern: { source: ['lamassu.ca'], 'detail-type': ['certificate.status.update'] },
        Targets: [
          {
            Arn: arnOf(queueId),
            DeadLetterConfig: { Arn: dlq },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          },
        ],
      });
      // 600 s of unknown-serial retries at one per minute (11 receives) and 5 more for other failures.
      expect(certificateMaxReceives(600)).toBe(16);
      expect(resource(dev, queueId).Properties).toMatchObject({
        VisibilityTimeout: 60,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: dlq, maxReceiveCount: 16 },
      });
      const mapping = resourcesOf(dev.template, 'AWS::Lambda::EventSourceMapping').find(
        ([, m]) => refOf(m.Properties!.FunctionName) === intake,
      )!;
      expect(mapping[1].Properties).toEqual({
        FunctionName: { Ref: intake },
        EventSourceArn: arnOf(queueId),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      });
      // The cap is a setting: a CA's burst waits in the queue (2 to 1000, as SQS event sources take).
      const capped = synthesize({ certificateIntakeConcurrency: 40 }).template;
      expect(
        resourcesOf(capped, 'AWS::Lambda::EventSourceMapping').some(
          ([, m]) => m.Properties!.ScalingConfig?.MaximumConcurrency === 40,
        ),
      ).toBe(true);
      expect(() => parseConfig({ certificateIntakeConcurrency: 1 })).toThrow(DeploymentConfigError);
      const fn = resource(dev, intake).Properties;
      expect(fn).toMatchObject({ Timeout: 30, Environment: { Variables: { UNKNOWN_SERIAL_RETRY_SECONDS: '600' } } });
      // Not invoked by EventBridge any more: no invoke permission, no async-invoke configuration.
      expect(
        resourcesOf(dev.template, 'AWS::Lambda::Permission').filter(
          ([, p]) => refOf(p.Properties!.FunctionName) === intake,
        ),
      ).toEqual([]);
      expect(
        resourcesOf(dev.template, 'AWS::Lambda::EventInvokeConfig').filter(
          ([, c]) => refOf(c.Properties!.FunctionName) === intake,
        ),
      ).toEqual([]);
    },
  );

  it('takes unknownSerialRetrySeconds (0 to 3600) and sizes the receives by it', () => {
    const short = synthesize({ unknownSerialRetrySeconds: 120 });
    const events = short.stack.events;
    expect(resource(short, idOf(short, events.certificateQueue)).Properties.RedrivePolicy.maxReceiveCount).toBe(
      certificateMaxReceives(120),
    );
    expect(
      resource(short, idOf(short, events.certificateIntake.function)).Properties.Environment.Variables
        .UNKNOWN_SERIAL_RETRY_SECONDS,
    ).toBe('120');
    expect(() => parseConfig({ unknownSerialRetrySeconds: 3601 })).toThrow(DeploymentConfigError);
    expect(() => parseConfig({ unknownSerialRetrySeconds: -1 })).toThrow('unknownSerialRetrySeconds');
  });

  it('matches exactly the configured certificateSources, and refuses an invalid list', () => {
    const custom = synthesize({ certificateSources: ['acme.pki', 'lamassu.ca.eu'] });
    const rule = resource(custom, idOf(custom, custom.stack.events.certificateRule)).Properties;
    expect(rule!.EventPattern).toEqual({
      source: ['acme.pki', 'lamassu.ca.eu'],
      'detail-type': ['certificate.status.update'],
    });
    expect(() => synthesize({ certificateSources: [] })).toThrow(
      'deviceManager.certificateSources must be an array of 1 to 10 distinct event sources',
    );
    expect(() => synthesize({ certificateSources: ['ok', ' bad'] })).toThrow(
      'deviceManager.certificateSources[1] must match',
    );
  });

  it('may Query the serial index only, do the device writes, consume its queue and write its logs', () => {
    const events = dev.stack.events;
    expect(sorted(roleStatements(dev, events.certificateIntake))).toEqual(
      sorted([
        logsStatement(dev, events.certificateIntake),
        { Effect: 'Allow', Action: [...CERTIFICATE_INTAKE_TABLE_ACTIONS], Resource: tableArn(dev) },
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Join': ['', [tableArn(dev), '/index/version-by-serial']] },
        },
        {
          Effect: 'Allow',
          Action: [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ],
          Resource: arnOf(idOf(dev, events.certificateQueue)),
        },
      ]),
    );
  });
});

describe('dead-letter queues', () => {
  it.each([
    ['without', () => dev, 4],
    // With the IoT sync: its queue's and presence's (on by default).
    ['with', () => iot, 6],
  ] as const)('are encrypted, TLS only and alarmed on their depth, %s the IoT sync', (_name, get, count) => {
    const s = get();
    const queues = [
      s.stack.events.publishDeadLetterQueue,
      s.stack.events.certificateDeadLetterQueue,
      s.stack.counters.deadLetterQueue,
      s.stack.sweeper.deadLetterQueue,
      ...(s.stack.iotSync ? [s.stack.iotSync.deadLetterQueue] : []),
      ...(s.stack.presence ? [s.stack.presence.deadLetterQueue] : []),
    ];
    expect(queues).toHaveLength(count);
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties!)
      .filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(alarms).toHaveLength(count);
    for (const queue of queues) {
      const id = idOf(s, queue);
      expect(resource(s, id).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          Statistic: 'Maximum',
        }),
      );
    }
  });
});

describe('the AWS IoT sync', () => {
  it('creates nothing of it when iotSync is off (the default)', () => {
    expect(dev.stack.iotSync).toBeUndefined();
    expect(resourcesOf(dev.template, 'AWS::IoT::ThingType')).toEqual([]);
    // Publisher and counter applier DLQs, the certificate queue and its DLQ, the sweeper's two task
    // queues and their DLQ.
    expect(resourcesOf(dev.template, 'AWS::SQS::Queue')).toHaveLength(7);
    const statements = resourcesOf(dev.template, 'AWS::IAM::Policy').flatMap(
      ([, p]) => p.Properties!.PolicyDocument.Statement as (Statement & { Sid?: string })[],
    );
    // The CA registration routes are part of the API in every setting (docs/iot-provisioning.md), each
    // with its one action in a statement of its own; no other function may call AWS IoT.
    const iotActions = (list: typeof statements) =>
      list.flatMap((st) => asArray(st.Action)).filter((a) => a.startsWith('iot:'));
    expect(iotActions(statements.filter((st) => st.Sid !== 'IotCa'))).toEqual([]);
    expect(iotActions(statements.filter((st) => st.Sid === 'IotCa')).sort()).toEqual([
      'iot:GetRegistrationCode',
      'iot:RegisterCACertificate',
    ]);
  });

  it(
    'routes the device events of the bus to a queue with a DLQ ' +
      'after 5 receives, polled with partial batch failures and ' +
      'bounded concurrency',
    () => {
      const sync = iot.stack.iotSync!;
      const queueId = idOf(iot, sync.queue);
      expect(resource(iot, idOf(iot, sync.rule)).Properties).toMatchObject({
        EventBusName: { Ref: resourcesOf(iot.template, 'AWS::Events::EventBus')[0]![0] },
        EventPattern: { source: ['device-manager'], 'detail-type': [{ prefix: 'device.' }, 'dms.update'] },
        Targets: [{ Arn: arnOf(queueId) }],
      });
      expect(resource(iot, queueId).Properties).toMatchObject({
        VisibilityTimeout: 360,
        // An import's backlog paced at the AWS IoT API rates may take days: 14 (the SQS maximum), not 4.
        MessageRetentionPeriod: 14 * 86_400,
        RedrivePolicy: { deadLetterTargetArn: arnOf(idOf(iot, sync.deadLetterQueue)), maxReceiveCount: 5 },
      });
      const mapping = resourcesOf(iot.template, 'AWS::Lambda::EventSourceMapping').find(
        ([, m]) => JSON.stringify(m.Properties!.EventSourceArn) === JSON.stringify(arnOf(queueId)),
      )!;
      expect(mapping[1].Properties).toMatchObject({
        FunctionName: { Ref: idOf(iot, sync.function.function) },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      });
    },
  );

  it(
    'gives things a thing type (50 attributes) and hands the settings ' +
      'to the function, whose loader reads them back',
    () => {
      const sync = iot.stack.iotSync!;
      const thingTypeId = idOf(iot, sync.thingType);
      expect(resource(iot, thingTypeId).Properties).toEqual({
        ThingTypeName: 'DeviceManager-dev',
        ThingTypeProperties: {
          SearchableAttributes: ['status', 'dms_owner'],
          ThingTypeDescription: expect.any(String),
        },
      });
      const variables = resource(iot, idOf(iot, sync.function.function)).Properties.Environment.Variables;
      expect(variables).toMatchObject({
        IOT_SYNC_ENABLED: 'true',
        IOT_METADATA_KEYS: 'firmware_version,location',
        IOT_THING_TYPE: { Ref: thingTypeId },
        IOT_DECOMMISSION_CERTIFICATE_STATUS: 'REVOKED',
        // Each of the 5 concurrent instances takes a fifth of the deployment's rate per API.
        IOT_API_RATES: 'default=2,UpdateCertificate=4',
        IOT_CERTIFICATE_REGISTRATION: 'without-ca',
        IOT_PROVISIONING_ROLE_ARN: arnOf(idOf(iot, sync.provisioningRole)),
        TABLE_NAME: { Ref: tableId(iot) },
      });
      const roleArn = 'arn:aws:iam::123456789012:role/provisioning';
      expect(
        loadIotSyncConfig({ ...variables, IOT_THING_TYPE: 'DeviceManager-dev', IOT_PROVISIONING_ROLE_ARN: roleArn }),
      ).toMatchObject({
        provisioningRoleArn: roleArn,
        enabled: true,
        metadataKeys: ['firmware_version', 'location'],
        thingTypeName: 'DeviceManager-dev',
        decommissionCertificateStatus: 'REVOKED',
        apiRates: { default: 2, UpdateCertificate: 4 },
      });
    },
  );

  it(
    'may call exactly the IoT actions it uses, on things (and its ' +
      'thing type) and certificates of this account and region, ' +
      'read devices by key and write their sync state',
    () => {
      const sync = iot.stack.iotSync!;
      const iotArn = (rest: unknown[]) => ({
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':iot:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ...rest],
        ],
      });
      const queueArn = arnOf(idOf(iot, sync.queue));
      expect(sorted(roleStatements(iot, sync.function))).toEqual(
        sorted([
          logsStatement(iot, sync.function),
          // The device and its versions read by key; its sync state read and written (one item per device);
          // a resolved `revoked-still-active-in-iot` finding: the device updated, its entry deleted, outbox put.
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            Resource: tableArn(iot),
          },
          {
            Effect: 'Allow',
            Action: [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:ReceiveMessage',
            ],
            Resource: queueArn,
          },
          {
            Effect: 'Allow',
            Action: [...IOT_THING_ACTIONS],
            Resource: [iotArn([':thing/*']), iotArn([':thingtype/', { Ref: idOf(iot, sync.thingType) }])],
          },
          { Effect: 'Allow', Action: [...IOT_CERTIFICATE_ACTIONS], Resource: iotArn([':cert/*']) },
          // Per-DMS provisioning: policies, thing groups (and the things put in them), templates.
          { Effect: 'Allow', Action: [...IOT_PROVISIONING_ACTIONS['policy/*']], Resource: iotArn([':policy/*']) },
          {
            Effect: 'Allow',
            Action: [...IOT_PROVISIONING_ACTIONS['thinggroup/*']],
            Resource: [iotArn([':thing/*']), iotArn([':thinggroup/*'])],
          },
          {
            Effect: 'Allow',
            Action: [...IOT_PROVISIONING_ACTIONS['provisioningtemplate/*']],
            Resource: iotArn([':provisioningtemplate/*']),
          },
          // The templates' role, handed to AWS IoT only.
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: arnOf(idOf(iot, sync.provisioningRole)),
            Condition: { StringEquals: { 'iam:PassedToService': 'iot.amazonaws.com' } },
          },
          // The registration of the default certificateRegistration (without-ca): no resource in IAM. A
          // statement of its own (Sid), never merged into tracing's X-Ray statement, the other one on `*`.
          { Effect: 'Allow', Action: ['iot:RegisterCertificateWithoutCA'], Resource: '*', Sid: 'RegisterCertificate' },
          // The device shadow's identity actions (identityActions, on by default): classic and named shadows
          // are thing/<name> and thing/<name>/<shadow>; the data endpoint looked up (no dataEndpoint set).
          { Effect: 'Allow', Action: [...IOT_SHADOW_ACTIONS], Resource: iotArn([':thing/*']) },
          { Effect: 'Allow', Action: [...IOT_ENDPOINT_ACTIONS], Resource: '*', Sid: 'DescribeEndpoint' },
        ]),
      );
      expect([...IOT_THING_ACTIONS, ...IOT_CERTIFICATE_ACTIONS].sort()).toEqual(
        [
          'iot:AttachPolicy',
          'iot:AttachThingPrincipal',
          'iot:CreateThing',
          'iot:DescribeCertificate',
          'iot:DetachPolicy',
          'iot:DescribeThing',
          'iot:DetachThingPrincipal',
          'iot:UpdateCertificate',
          'iot:UpdateThing',
        ].sort(),
      );
    },
  );

  it('gives AWS IoT a role of its own for the JITP templates, with the actions a template performs', () => {
    const role = resource(iot, idOf(iot, iot.stack.iotSync!.provisioningRole)).Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'iot.amazonaws.com' } },
    ]);
    expect(role.Policies).toHaveLength(1);
    expect(role.Policies[0].PolicyDocument.Statement).toMatchObject([
      { Effect: 'Allow', Action: [...IOT_JITP_ACTIONS].sort() },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
  });

  it('keeps cdk-nag clean, every acknowledgement with a reason', () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(nagFindings(iot.stack)).toEqual([]);
      expect(Annotations.fromStack(iot.stack).findError('*', Match.anyValue())).toEqual([]);
    } finally {
      printed.mockRestore();
    }
  });

  it('takes decommissionCertificateStatus INACTIVE or REVOKED only', () => {
    expect(parseConfig({ iotSync: { enabled: true } }).iotSync).toEqual({ enabled: true, metadataKeys: [] });
    expect(
      parseConfig({ iotSync: { decommissionCertificateStatus: 'REVOKED' } }).iotSync.decommissionCertificateStatus,
    ).toBe('REVOKED');
    expect(() => parseConfig({ iotSync: { decommissionCertificateStatus: 'DELETED' } })).toThrow(DeploymentConfigError);
    expect(() => parseConfig({ iotSync: { decommissionCertificateStatus: 'DELETED' } })).toThrow(
      /^deviceManager\.iotSync\.decommissionCertificateStatus must be 'INACTIVE' or 'REVOKED'/,
    );
  });

  it('grants the shadow write only with identityActions, and the endpoint lookup only without dataEndpoint', () => {
    const of = (iotSync: Record<string, unknown>) => {
      const s = synthesize({ iotSync: { enabled: true, ...iotSync } });
      const fn = s.stack.iotSync!.function;
      const actions = roleStatements(s, fn).flatMap((st) => asArray(st.Action));
      const variables = s.template.toJSON().Resources[idOf(s, fn.function)].Properties.Environment.Variables;
      return {
        shadow: actions.includes('iot:UpdateThingShadow'),
        lookup: actions.includes('iot:DescribeEndpoint'),
        env: [variables.IOT_IDENTITY_ACTIONS, variables.IOT_SHADOW_NAME, variables.IOT_DATA_ENDPOINT],
      };
    };
    expect(of({ identityActions: false })).toEqual({
      shadow: false,
      lookup: false,
      env: ['false', undefined, undefined],
    });
    expect(of({ shadowName: 'identity', dataEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com' })).toEqual({
      shadow: true,
      lookup: false,
      env: ['true', 'identity', 'abc-ats.iot.eu-west-1.amazonaws.com'],
    });
    expect(() => parseConfig({ iotSync: { shadowName: 'a/b' } })).toThrow(
      /^deviceManager\.iotSync\.shadowName must be/,
    );
    expect(() => parseConfig({ iotSync: { dataEndpoint: 'https://x' } })).toThrow(/dataEndpoint must be a host name/);
  });

  it('grants the registration call of certificateRegistration only (with-ca: RegisterCertificate; none: none)', () => {
    const actionsOf = (registration: 'with-ca' | 'none') => {
      const s = synthesize({ iotSync: { enabled: true, certificateRegistration: registration } });
      return roleStatements(s, s.stack.iotSync!.function)
        .flatMap((st) => asArray(st.Action))
        .filter((a) => a.startsWith('iot:Register'));
    };
    expect(actionsOf('with-ca')).toEqual(['iot:RegisterCertificate']);
    expect(actionsOf('none')).toEqual([]);
    expect(() => parseConfig({ iotSync: { certificateRegistration: 'jitp' } })).toThrow(
      /^deviceManager\.iotSync\.certificateRegistration must be 'without-ca', 'with-ca' or 'none'/,
    );
  });

  it('takes apiRates as calls per second per AWS IoT API, and refuses anything else', () => {
    expect(parseConfig({ iotSync: { apiRates: { default: 5, CreateThing: 0.5 } } }).iotSync.apiRates).toEqual({
      default: 5,
      CreateThing: 0.5,
    });
    expect(() => parseConfig({ iotSync: { apiRates: { CreateThing: 0 } } })).toThrow(
      /^deviceManager\.iotSync\.apiRates must be calls per second by AWS IoT API name/,
    );
    expect(() => parseConfig({ iotSync: { apiRates: { 'iot:CreateThing': 5 } } })).toThrow(
      /^deviceManager\.iotSync\.apiRates must be calls per second by AWS IoT API name/,
    );
    expect(() => parseConfig({ iotSync: { apiRates: [5] } })).toThrow(DeploymentConfigError);
  });
});
