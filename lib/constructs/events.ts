/**
 * Lifecycle events (docs/api.md, Events on EventBridge): the stack's bus with an archive for replay, the outbox
 * publisher
 * (table stream → bus) with its dead-letter queue, and the certificate status intake (rule on
 * `certificate.status.update` → SQS queue → function) with its own. Every dead-letter queue has a
 * depth alarm.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Archive, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import {
  EventSourceMapping,
  FilterCriteria,
  type IDestination,
  type IEventSourceDlq,
  type IFunction,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OUTBOX_STREAM_FILTERS } from '../../functions/adapters/dynamodb/stream-filters';
import { SERIAL_INDEX } from '../../functions/adapters/dynamodb/schema';
import { CERTIFICATE_STATUS_DETAIL_TYPE } from '../../functions/domain/slots';
import { LAMASSU_EVENT_SOURCE } from '../../functions/lamassu/events';
import { type DeploymentConfig, toRemovalPolicy } from '../config';
import { ServiceFunction } from './service-function';
import { acknowledgeGuard } from '../validation';

/** How long the archive keeps published events for replay. */
export const EVENT_ARCHIVE_RETENTION = Duration.days(90);
/** Publisher: time for a batch of 100 records with bounded retries and backoff. */
export const PUBLISHER_TIMEOUT = Duration.seconds(60);
/** Stream retries of a failing batch (bisected each time) before the on-failure destination. */
export const STREAM_RETRY_ATTEMPTS = 10;
/**
 * What the certificate intake does to the table: reads and writes of the device save path, no scans, no batch reads.
 */
export const CERTIFICATE_INTAKE_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];
/** Certificate intake: a batch of 10 status updates, each a serial index query and a device transaction. */
export const CERTIFICATE_INTAKE_TIMEOUT = Duration.seconds(30);
/**
 * How soon a certificate status is delivered again after a failure or a serial not found yet: the
 * queue's visibility timeout (Lambda requires it to be at least the function's timeout).
 */
export const CERTIFICATE_RETRY_INTERVAL = Duration.seconds(60);
/**
 * Receives beyond the unknown-serial retries that other failures (throttling, timeouts) get before the dead-letter
 * queue.
 */
export const CERTIFICATE_EXTRA_RECEIVES = 5;

/**
 * Receives of a certificate status before the dead-letter queue: the whole unknown-serial window, plus room for other
 * failures.
 */
export function certificateMaxReceives(unknownSerialRetrySeconds: number): number {
  return Math.ceil(unknownSerialRetrySeconds / CERTIFICATE_RETRY_INTERVAL.toSeconds()) + 1 + CERTIFICATE_EXTRA_RECEIVES;
}

/** The stream actions the event source mapping needs (the DynamoDB developer guide's policy for Lambda triggers). */
export const STREAM_READ_ACTIONS: readonly string[] = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
];

/** The sources the publisher puts on the bus, all archived for replay. */
export function archivedSources(config: DeploymentConfig): string[] {
  return [
    config.eventSource,
    ...(config.lamassuEvents && config.eventSource !== LAMASSU_EVENT_SOURCE ? [LAMASSU_EVENT_SOURCE] : []),
  ];
}

/** An encrypted, TLS-only dead-letter queue that keeps messages 14 days, with an alarm as soon as one arrives. */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  config: DeploymentConfig,
  holds: string,
): { queue: Queue; alarm: Alarm } {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: toRemovalPolicy(config.removalPolicy),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      `This queue is itself a dead-letter queue (${holds}); a dead-letter ` +
      `queue of a dead-letter queue would only move the problem. ` +
      `Its depth alarm tells operators to look.`,
  });
  acknowledgeGuard(queue, {
    sqs_dlq_check:
      `This queue is itself a dead-letter queue (${holds}); its ` +
      `depth alarm tells operators to look, and nothing reads from ` +
      `it automatically.`,
  });
  const alarm = new Alarm(scope, `${id}Depth`, {
    alarmDescription: `Messages in the dead-letter queue: ${holds}. Inspect, fix the cause, then redrive.`,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  return { queue, alarm };
}

/**
 * The encrypted, TLS-only work queue of a Lambda consumer: a visibility timeout of six times the
 * function's timeout (AWS's advice for a Lambda event source), 4 days' retention, and `dlq` after
 * `maxReceives` receives.
 */
export function workQueue(
  scope: Construct,
  id: string,
  props: {
    functionTimeout: Duration;
    deadLetterQueue: Queue;
    maxReceives: number;
    visibilityTimeout?: Duration;
    /** @default 4 days */
    retentionPeriod?: Duration;
  },
): Queue {
  return new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(props.functionTimeout.toSeconds() * 6),
    retentionPeriod: props.retentionPeriod ?? Duration.days(4),
    deadLetterQueue: { queue: props.deadLetterQueue, maxReceiveCount: props.maxReceives },
  });
}

/**
 * An SQS failure destination that grants exactly sqs:SendMessage on the queue (the stock ones also
 * grant GetQueueAttributes and GetQueueUrl, which Lambda does not need to deliver there).
 */
export function sendOnlyDestination(queue: Queue): IEventSourceDlq & IDestination {
  return {
    bind(_target: unknown, fn: IFunction) {
      Grant.addToPrincipal({ grantee: fn, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
      return { destination: queue.queueArn };
    },
  };
}

export interface DeviceEventsProps {
  readonly config: DeploymentConfig;
  /** The device table; its stream feeds the publisher. */
  readonly table: ITable;
}

export class DeviceEvents extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;
  readonly publisher: ServiceFunction;
  readonly streamMapping: EventSourceMapping;
  readonly publishDeadLetterQueue: Queue;
  readonly certificateIntake: ServiceFunction;
  readonly certificateRule: Rule;
  readonly certificateQueue: Queue;
  readonly certificateDeadLetterQueue: Queue;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: DeviceEventsProps) {
    super(scope, id);
    const { config, table } = props;
    if (!table.tableStreamArn)
      throw new Error('the device table must have a stream (NEW_AND_OLD_IMAGES) for the outbox publisher');

    this.bus = new EventBus(this, 'Bus', {
      eventBusName: `device-manager-${config.stageName}`,
      description: `Device Manager lifecycle events (${config.stageName})`,
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every Device Manager event, for replay',
      // With lamassuEvents the bus also carries Lamassu-typed events and CA revocation requests
      // (source `service/devmanager`): archived too, so they can be replayed.
      eventPattern: { source: archivedSources(config) },
      retention: EVENT_ARCHIVE_RETENTION,
    });

    // The publisher: stream → bus; what it cannot publish goes to its dead-letter queue with the reason.
    const publishDlq = deadLetterQueue(
      this,
      'PublishDeadLetterQueue',
      config,
      'events the outbox publisher could not put on the bus, and stream batches that kept failing',
    );
    this.publishDeadLetterQueue = publishDlq.queue;
    this.alarms.push(publishDlq.alarm);
    this.publisher = new ServiceFunction(this, 'Publisher', {
      entry: 'stream/publish-outbox',
      description: 'Outbox publisher: table stream to the EventBridge bus',
      config,
      table,
      tableAccess: 'none',
      timeout: PUBLISHER_TIMEOUT,
      environment: {
        EVENT_BUS_NAME: this.bus.eventBusName,
        EVENT_SOURCE: config.eventSource,
        PUBLISH_DLQ_URL: this.publishDeadLetterQueue.queueUrl,
        ...(config.lamassuEvents ? { LAMASSU_EVENTS: 'true' } : {}),
      },
    });
    this.bus.grantPutEventsTo(this.publisher.role);
    Grant.addToPrincipal({
      grantee: this.publisher.role,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.publishDeadLetterQueue.queueArn],
    });
    Grant.addToPrincipal({
      grantee: this.publisher.role,
      actions: [...STREAM_READ_ACTIONS],
      resourceArns: [`${table.tableArn}/stream/*`],
    });
    const tableLogicalId = Stack.of(this).resolve((table.node.defaultChild as CfnTable).logicalId) as string;
    Validations.of(this.publisher.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/stream/*]`,
      reason:
        'The stream actions are scoped to `<table ARN>/stream/*`: ' +
        'the streams of the device table only (the stream label changes ' +
        'when a stream is re-enabled), as in the DynamoDB developer ' +
        'guide policy for Lambda triggers; ListStreams has no narrower ' +
        'resource.',
    });

    this.streamMapping = new EventSourceMapping(this, 'StreamMapping', {
      target: this.publisher.function,
      eventSourceArn: table.tableStreamArn,
      // Never lost: a new or replaced mapping starts from the oldest record still in the stream (24 h).
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // Per-shard order: one batch of a shard at a time.
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: STREAM_RETRY_ATTEMPTS,
      onFailure: sendOnlyDestination(this.publishDeadLetterQueue),
      // Only new outbox records reach the function (TTL deletions and every other item are filtered out).
      // The local service's feed applies the same patterns.
      filters: OUTBOX_STREAM_FILTERS.map((pattern) => FilterCriteria.filter(pattern)),
    });

    // Certificate status intake: rule → queue → function. A serial not found yet (the serial index is
    // eventually consistent) is a batch item failure, delivered again every CERTIFICATE_RETRY_INTERVAL
    // for unknownSerialRetrySeconds; other failures are retried too; then the dead-letter queue.
    const maxReceives = certificateMaxReceives(config.unknownSerialRetrySeconds);
    const certificateDlq = deadLetterQueue(
      this,
      'CertificateDeadLetterQueue',
      config,
      `certificate.status.update events the intake could not apply ` +
        `after ${maxReceives} receives, or EventBridge could not queue`,
    );
    this.certificateDeadLetterQueue = certificateDlq.queue;
    this.alarms.push(certificateDlq.alarm);
    this.certificateQueue = workQueue(this, 'CertificateQueue', {
      functionTimeout: CERTIFICATE_INTAKE_TIMEOUT,
      visibilityTimeout: CERTIFICATE_RETRY_INTERVAL,
      deadLetterQueue: this.certificateDeadLetterQueue,
      maxReceives,
    });
    this.certificateIntake = new ServiceFunction(this, 'CertificateIntake', {
      entry: 'events/certificate-status',
      description: 'Certificate status intake: certificate.status.update to the slot versions',
      config,
      table,
      tableAccess: { actions: CERTIFICATE_INTAKE_TABLE_ACTIONS },
      timeout: CERTIFICATE_INTAKE_TIMEOUT,
      environment: { UNKNOWN_SERIAL_RETRY_SECONDS: String(config.unknownSerialRetrySeconds) },
    });
    // The serial index alone, not every index of the table.
    Grant.addToPrincipal({
      grantee: this.certificateIntake.role,
      actions: ['dynamodb:Query'],
      resourceArns: [`${table.tableArn}/index/${SERIAL_INDEX.name}`],
    });
    this.certificateIntake.function.addEventSource(
      new SqsEventSource(this.certificateQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // A CA's burst waits in the queue rather than taking every Lambda slot of the account.
        maxConcurrency: config.certificateIntakeConcurrency,
      }),
    );
    this.certificateRule = new Rule(this, 'CertificateStatusRule', {
      eventBus: this.bus,
      description: 'Certificate status updates from the CA to the Device Manager certificate intake',
      // The CA's source too: the detail-type alone would let anyone allowed to PutEvents on the bus revoke identities.
      eventPattern: { source: [...config.certificateSources], detailType: [CERTIFICATE_STATUS_DETAIL_TYPE] },
      // What EventBridge cannot deliver to the queue (after its retries) lands in the dead-letter queue too.
      targets: [
        new SqsQueue(this.certificateQueue, {
          deadLetterQueue: this.certificateDeadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}
