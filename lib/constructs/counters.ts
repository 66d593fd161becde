/**
 * The counter applier (docs/adr/0005-counters-from-the-stream.md): the table's stream, filtered to
 * device items, drives the function that adds each change's counter deltas (statistics, metadata
 * values, forecast) in batched transactions with processed markers. Its mapping never skips a
 * record silently: a batch that keeps failing lands in its dead-letter queue (alarmed), and its
 * iterator age (how far the counters lag the changes, the `consistent_as_of` of statistics) is alarmed.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping, FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { COUNTER_STREAM_FILTERS } from '../../functions/adapters/dynamodb/stream-filters';
import type { DeploymentConfig } from '../config';
import { deadLetterQueue, sendOnlyDestination, STREAM_READ_ACTIONS } from './events';
import { ServiceFunction } from './service-function';

/**
 * What the applier does to the table: processed markers (Put) and counter ADDs (Update), in
 * transactions; it reads the value counters and ranked items it refreshes (BatchGet, metadata-ranks.ts).
 */
export const COUNTER_APPLIER_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchGetItem',
  // The shared-findings reconciler: the holder index Query, the devices' reads and their changes
  // (a change deletes entries, and the shared-fingerprint items of an earlier release).
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:DeleteItem',
];
/** A batch of 100 records: a few transactions, each retried on conflicts with backoff. */
export const COUNTER_APPLIER_TIMEOUT = Duration.seconds(60);
/**
 * Stream retries of a failing batch before the failure destination: high, since a skipped record is
 * a counter off for good (the markers make every retry safe).
 */
export const COUNTER_STREAM_RETRY_ATTEMPTS = 100;
/** Iterator age beyond which the counters are called stale: the deployed bound of `consistent_as_of`. */
export const COUNTER_LAG_ALARM = Duration.seconds(60);

export interface CounterApplierProps {
  config: DeploymentConfig;
  table: ITable;
}

export class CounterApplier extends Construct {
  readonly function: ServiceFunction;
  readonly mapping: EventSourceMapping;
  readonly deadLetterQueue: Queue;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: CounterApplierProps) {
    super(scope, id);
    const { config, table } = props;
    if (!table.tableStreamArn)
      throw new Error('the device table must have a stream (NEW_AND_OLD_IMAGES) for the counters');

    const dlq = deadLetterQueue(
      this,
      'DeadLetterQueue',
      config,
      'stream batches of device changes the counter ' +
        'applier could not apply: recount the counters ' +
        'after fixing the cause',
    );
    this.deadLetterQueue = dlq.queue;
    this.alarms.push(dlq.alarm);

    this.function = new ServiceFunction(this, 'Function', {
      entry: 'stream/apply-counters',
      description: 'Counter applier: device changes on the table stream to the statistics counters',
      config,
      table,
      tableAccess: { actions: COUNTER_APPLIER_TABLE_ACTIONS },
      timeout: COUNTER_APPLIER_TIMEOUT,
    });
    Grant.addToPrincipal({
      grantee: this.function.role,
      actions: [...STREAM_READ_ACTIONS],
      resourceArns: [`${table.tableArn}/stream/*`],
    });
    const tableLogicalId = Stack.of(this).resolve((table.node.defaultChild as CfnTable).logicalId) as string;
    Validations.of(this.function.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/stream/*]`,
      reason:
        'The stream actions are scoped to `<table ' +
        'ARN>/stream/*`: the streams of the device ' +
        'table only (the stream label changes when ' +
        'a stream is re-enabled), as in the DynamoDB ' +
        'developer guide policy for Lambda triggers; ' +
        'ListStreams has no narrower resource.',
    });

    this.mapping = new EventSourceMapping(this, 'StreamMapping', {
      target: this.function.function,
      eventSourceArn: table.tableStreamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // Gather up to a second of changes per batch: fewer, fuller transactions on the counter items.
      maxBatchingWindow: Duration.seconds(1),
      // One batch of a shard at a time: a device's changes are applied in commit order.
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: COUNTER_STREAM_RETRY_ATTEMPTS,
      onFailure: sendOnlyDestination(this.deadLetterQueue),
      // Device items and their connectivity items (presence), created, changed or deleted (a purge): every
      // other item changes no counter. The local service's feed applies the same patterns.
      filters: COUNTER_STREAM_FILTERS.map((pattern) => FilterCriteria.filter(pattern)),
    });

    this.alarms.push(
      new Alarm(this, 'Lag', {
        alarmDescription:
          `The counters lag the device changes by more ` +
          `than ${COUNTER_LAG_ALARM.toSeconds()} s (statistics' ` +
          `consistent_as_of falls behind): look at the ` +
          `counter applier's errors and throttles.`,
        metric: new Metric({
          namespace: 'AWS/Lambda',
          metricName: 'IteratorAge',
          dimensionsMap: { FunctionName: this.function.function.functionName },
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        threshold: COUNTER_LAG_ALARM.toMilliseconds(),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
