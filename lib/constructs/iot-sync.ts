/**
 * AWS IoT Core registry sync (CONTRACT §7): a rule on the device events → an SQS queue (dead-letter
 * queue after 5 receives) → functions/handlers/events/iot-sync.ts with ReportBatchItemFailures and
 * bounded concurrency. Things get a thing type (searchable `status` and `dms_owner`), which allows
 * 50 attributes where an untyped thing has 3. Only created when iotSync.enabled.
 */
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { CfnThingType } from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { deadLetterQueue, workQueue } from './events';
import { ServiceFunction } from './service-function';

/** The IoT calls of the sync, on things (and the thing type they are given). */
export const IOT_THING_ACTIONS: readonly string[] = ['iot:CreateThing', 'iot:UpdateThing', 'iot:DescribeThing', 'iot:AttachThingPrincipal', 'iot:DetachThingPrincipal'];
/** The IoT calls of the sync, on certificates. */
export const IOT_CERTIFICATE_ACTIONS: readonly string[] = ['iot:DescribeCertificate', 'iot:UpdateCertificate'];
export const IOT_SYNC_TIMEOUT = Duration.seconds(60);
/** Receives of a message before it moves to the dead-letter queue. */
export const IOT_SYNC_MAX_RECEIVES = 5;
/** Concurrent invocations the queue may drive: bounds the IoT control-plane call rate. */
export const IOT_SYNC_MAX_CONCURRENCY = 5;

export interface IotSyncProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
  readonly bus: IEventBus;
}

export class IotSync extends Construct {
  readonly thingType: CfnThingType;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;
  readonly function: ServiceFunction;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: IotSyncProps) {
    super(scope, id);
    const { config, table, bus } = props;
    const { region, account, partition } = Stack.of(this);

    this.thingType = new CfnThingType(this, 'ThingType', {
      thingTypeName: `DeviceManager-${config.stageName}`,
      thingTypeProperties: { thingTypeDescription: 'Devices of the Device Manager registry', searchableAttributes: ['status', 'dms_owner'] },
    });

    const dlq = deadLetterQueue(this, 'DeadLetterQueue', config, `device events the IoT sync failed ${IOT_SYNC_MAX_RECEIVES} times`);
    this.deadLetterQueue = dlq.queue;
    this.alarms.push(dlq.alarm);
    this.queue = workQueue(this, 'Queue', { functionTimeout: IOT_SYNC_TIMEOUT, deadLetterQueue: this.deadLetterQueue, maxReceives: IOT_SYNC_MAX_RECEIVES });
    this.rule = new Rule(this, 'DeviceEventsRule', {
      eventBus: bus,
      description: 'Device Manager device events to the AWS IoT registry sync',
      eventPattern: { source: [config.eventSource], detailType: Match.prefix('device.') },
      // What EventBridge cannot deliver to the queue (after its retries) lands in the sync's DLQ too.
      targets: [new SqsQueue(this.queue, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: this.deadLetterQueue })],
    });

    this.function = new ServiceFunction(this, 'Sync', {
      entry: 'events/iot-sync',
      description: 'AWS IoT registry sync: device events to things and certificates',
      config,
      table,
      // The device and its identity version, read by key.
      tableAccess: { actions: ['dynamodb:GetItem'] },
      timeout: IOT_SYNC_TIMEOUT,
      environment: {
        IOT_SYNC_ENABLED: 'true',
        IOT_METADATA_KEYS: config.iotSync.metadataKeys.join(','),
        IOT_THING_TYPE: this.thingType.ref,
        IOT_DECOMMISSION_CERTIFICATE_STATUS: config.iotSync.decommissionCertificateStatus ?? 'INACTIVE',
      },
    });
    this.function.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: IOT_SYNC_MAX_CONCURRENCY }));

    const iotArn = (resource: string) => `arn:${partition}:iot:${region}:${account}:${resource}`;
    Grant.addToPrincipal({ grantee: this.function.role, actions: [...IOT_THING_ACTIONS], resourceArns: [iotArn('thing/*'), iotArn(`thingtype/${this.thingType.ref}`)] });
    Grant.addToPrincipal({ grantee: this.function.role, actions: [...IOT_CERTIFICATE_ACTIONS], resourceArns: [iotArn('cert/*')] });
    const reason = (what: string) =>
      `The sync names its ${what} at run time (one per device, created by the sync itself), so the resource is every ${what} of this account and region; AWS IoT allows no narrower pattern for device-derived names, and the actions are the seven the sync calls.`;
    // cdk-nag writes a pseudo parameter as `<AWS::Region>` in an environment-agnostic stack and as its
    // value once `cdk deploy` resolves an account and region: the id must follow.
    const written = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    const nagIotArn = (resource: string) => `arn:${written(partition, 'Partition')}:iot:${written(region, 'Region')}:${written(account, 'AccountId')}:${resource}`;
    Validations.of(this.function.role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagIotArn('thing/*')}]`, reason: reason('thing') });
    Validations.of(this.function.role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagIotArn('cert/*')}]`, reason: reason('certificate') });
  }
}
