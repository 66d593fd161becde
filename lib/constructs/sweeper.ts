/**
 * The status sweeper as a dispatcher and a job worker (docs/architecture.md, Background jobs): an
 * EventBridge schedule invokes functions/handlers/scheduled/sweep.ts, which sends one task per due
 * segment to the transitions queue and the back-fill and policy-job tasks to the jobs queue; both
 * queues drive functions/handlers/events/task-worker.ts, each with its own maximum concurrency
 * (settings sweepWorkers and jobWorkers), so a long back-fill never takes the transitions' workers.
 */
import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { deadLetterQueue, workQueue } from './events';
import { ServiceFunction, TABLE_WRITE_ACTIONS } from './service-function';

/**
 * What the worker calls: Query (the `due-by-time` index, the entry indexes for the devices of a DMS
 * whose policy changed, the job partition), BatchGetItem (list pages are hydrated by key), GetItem
 * (device, policy and run re-reads), and the writes of a transition (TransactWriteItems over the
 * device, entries, events, counters, versions and outbox, UpdateItem of the due marker and of job
 * progress, Delete of a finished job): the write level. `npm run test:deployed` proves it.
 */
/** The job worker: item reads and writes, and BatchWriteItem (a server-side import's report rows). */
export const SWEEPER_TABLE_ACTIONS: readonly string[] = [...TABLE_WRITE_ACTIONS, 'dynamodb:BatchWriteItem'];

/**
 * What the dispatcher calls: Query (the first due entry of each segment, the job partition, the
 * unfinished remediation jobs), BatchGetItem (that entry's device), GetItem (an unfinished job, to see
 * whether it stalled) and PutItem (the run marker).
 */
export const DISPATCHER_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
];

/** The dispatcher only reads a few items and sends a few messages. */
export const DISPATCHER_TIMEOUT = Duration.minutes(1);
/** A task stops starting work 10 s before its remaining time runs out (the handler's safety margin). */
export const SWEEPER_TIMEOUT = Duration.minutes(5);
/** Receives of a task before it moves to the dead-letter queue (a task of a finished run is a no-op). */
export const TASK_MAX_RECEIVES = 3;

export interface SweeperProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
}

export class Sweeper extends Construct {
  /** The dispatcher, on the schedule. */
  readonly function: ServiceFunction;
  /** The job worker, on both queues. */
  readonly worker: ServiceFunction;
  readonly transitionsQueue: Queue;
  readonly jobsQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    const { config, table } = props;

    const dlq = deadLetterQueue(
      this,
      'DeadLetterQueue',
      config,
      `sweep and job tasks that failed ${TASK_MAX_RECEIVES} times (their devices stay due: the next run retries)`,
    );
    this.deadLetterQueue = dlq.queue;
    this.alarms.push(dlq.alarm);
    const queue = (queueId: string) =>
      workQueue(this, queueId, {
        functionTimeout: SWEEPER_TIMEOUT,
        deadLetterQueue: this.deadLetterQueue,
        maxReceives: TASK_MAX_RECEIVES,
      });
    this.transitionsQueue = queue('TransitionsQueue');
    this.jobsQueue = queue('JobsQueue');
    const environment = {
      SWEEP_QUEUE_URL: this.transitionsQueue.queueUrl,
      JOB_QUEUE_URL: this.jobsQueue.queueUrl,
    };
    const queueArns = [this.transitionsQueue.queueArn, this.jobsQueue.queueArn];

    // No reserved concurrency: every device is handled by its own conditional write, so runs that
    // overlap (a slow run, a short rate) cannot record a transition twice.
    this.function = new ServiceFunction(this, 'Sweep', {
      entry: 'scheduled/sweep',
      description: `Status sweep dispatcher (every ${config.sweepRateMinutes} min)`,
      config,
      table,
      tableAccess: { actions: DISPATCHER_TABLE_ACTIONS },
      timeout: DISPATCHER_TIMEOUT,
      memorySize: 512,
      environment,
    });
    // A failed run is not retried: the next scheduled run is the retry, and it starts from what is due then.
    this.function.function.configureAsyncInvoke({ retryAttempts: 0 });

    this.worker = new ServiceFunction(this, 'Worker', {
      entry: 'events/task-worker',
      description: 'Job worker: sweep transitions, back-fills, policy jobs',
      config,
      table,
      tableAccess: { actions: SWEEPER_TABLE_ACTIONS },
      timeout: SWEEPER_TIMEOUT,
      memorySize: 512,
      // Only the worker writes job outcomes (their TTL).
      environment: { ...environment, JOB_RETENTION_DAYS: String(config.jobRetentionDays) },
    });
    // Tasks send their continuations (the next page, the rest of a walk) to the queue of their kind.
    for (const fn of [this.function, this.worker])
      Grant.addToPrincipal({ grantee: fn.role, actions: ['sqs:SendMessage'], resourceArns: queueArns });
    // One task per invocation: a task is a page of work, and the queue's maximum concurrency is the
    // number of workers.
    this.worker.function.addEventSource(
      new SqsEventSource(this.transitionsQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: config.sweepWorkers,
      }),
    );
    this.worker.function.addEventSource(
      new SqsEventSource(this.jobsQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: config.jobWorkers,
      }),
    );

    this.rule = new Rule(this, 'Schedule', {
      description: `Runs the Device Manager status sweeper (${config.stageName}) every ${config.sweepRateMinutes} min`,
      schedule: Schedule.rate(Duration.minutes(config.sweepRateMinutes)),
      targets: [new LambdaFunction(this.function.function)],
    });
  }
}
