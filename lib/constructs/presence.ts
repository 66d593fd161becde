/**
 * Presence (docs/events.md, Presence: connectivity): an AWS IoT rule on the lifecycle topics
 * `$aws/events/presence/connected|disconnected/<clientId>` → an SQS queue (dead-letter queue after 5
 * receives; the rule's own failures land there too) → functions/handlers/events/presence.ts, which stores
 * each device's connectivity; and, every hour, the count of devices in service not seen for
 * `iotSync.notSeenDays` days as the metric DevicesNotSeen, with an alarm. Only with iotSync.enabled and
 * iotSync.presence (default true).
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/runtime/observability-names';
import type { DeploymentConfig } from '../config';
import { deadLetterQueue, workQueue } from './events';
import { ServiceFunction } from './service-function';

/** The lifecycle topics of every client: connected and disconnected (subscriptions are left out). */
export const PRESENCE_SQL = "SELECT * FROM '$aws/events/presence/+/+'";
export const PRESENCE_TIMEOUT = Duration.seconds(15);
/**
 * A message whose device wrote less than a minute ago is failed back to the queue: it returns after the
 * visibility timeout, past the minute.
 */
export const PRESENCE_VISIBILITY = Duration.seconds(90);
export const PRESENCE_MAX_RECEIVES = 5;
export const DEFAULT_NOT_SEEN_DAYS = 7;

/** Presence events are consumed when the IoT sync is on and iotSync.presence is not false. */
export const presenceEnabled = (config: DeploymentConfig): boolean =>
  config.iotSync.enabled && config.iotSync.presence !== false;

export interface PresenceProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
}

export class Presence extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: CfnTopicRule;
  readonly ruleRole: Role;
  readonly function: ServiceFunction;
  readonly notSeen: ServiceFunction;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: PresenceProps) {
    super(scope, id);
    const { config, table } = props;

    const dlq = deadLetterQueue(
      this,
      'DeadLetterQueue',
      config,
      'AWS IoT presence events the presence function failed',
    );
    this.deadLetterQueue = dlq.queue;
    this.alarms.push(dlq.alarm);
    this.queue = workQueue(this, 'Queue', {
      functionTimeout: PRESENCE_TIMEOUT,
      visibilityTimeout: PRESENCE_VISIBILITY,
      deadLetterQueue: this.deadLetterQueue,
      maxReceives: PRESENCE_MAX_RECEIVES,
    });

    // The role AWS IoT assumes to deliver the rule's messages: send to the queue and, on failure, the DLQ.
    this.ruleRole = new Role(this, 'RuleRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com'),
      description: 'AWS IoT presence rule: delivers lifecycle events to the presence queue',
    });
    Grant.addToPrincipal({
      grantee: this.ruleRole,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.queue.queueArn, this.deadLetterQueue.queueArn],
    });
    this.rule = new CfnTopicRule(this, 'Rule', {
      topicRulePayload: {
        description: 'Device Manager presence: AWS IoT lifecycle events to the presence queue',
        sql: PRESENCE_SQL,
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        actions: [{ sqs: { queueUrl: this.queue.queueUrl, roleArn: this.ruleRole.roleArn, useBase64: false } }],
        errorAction: { sqs: { queueUrl: this.deadLetterQueue.queueUrl, roleArn: this.ruleRole.roleArn } },
      },
    });

    this.function = new ServiceFunction(this, 'Apply', {
      entry: 'events/presence',
      description: 'AWS IoT presence events to each device connectivity',
      config,
      table,
      // The device's status and sort keys read by key; its connectivity item read and written.
      tableAccess: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
      timeout: PRESENCE_TIMEOUT,
    });
    this.function.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 5 }),
    );

    const days = config.iotSync.notSeenDays ?? DEFAULT_NOT_SEEN_DAYS;
    this.notSeen = new ServiceFunction(this, 'NotSeen', {
      entry: 'scheduled/not-seen',
      description: `Counts the devices in service not seen for ${days} days (metric DevicesNotSeen)`,
      config,
      table,
      // Only the disconnected entries last seen before the cutoff, by the entry-by-expiration index.
      tableAccess: { actions: ['dynamodb:Query'] },
      timeout: Duration.seconds(60),
      environment: { NOT_SEEN_DAYS: String(days) },
    });
    new Rule(this, 'NotSeenSchedule', {
      description: `Counts the Device Manager devices not seen for ${days} days (${config.stageName}), hourly`,
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(this.notSeen.function)],
    });
    const above = config.iotSync.notSeenAlarmAbove ?? 0;
    this.alarms.push(
      new Alarm(this, 'NotSeenAlarm', {
        alarmDescription:
          `More than ${above} devices in service (ACTIVE, RENEWAL_PENDING, EXPIRING_SOON at their last ` +
          `presence change) disconnected and not seen for ${days} days.`,
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.devicesNotSeen,
          dimensionsMap: { service: SERVICE_NAME },
          statistic: 'Maximum',
          period: Duration.hours(1),
        }),
        threshold: above,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
