/**
 * The status sweeper: an EventBridge schedule invokes functions/handlers/scheduled/sweep.ts, which
 * persists the time-driven status transitions of the devices that are due.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { ServiceFunction, TABLE_WRITE_ACTIONS } from './service-function';

/**
 * What a sweep calls: Query (the `due-by-time` index, the entry indexes for the devices of a DMS
 * whose policy changed, the job partition), BatchGetItem (list pages of due devices, of a DMS whose
 * policy changed and of the metadata back-fill are hydrated by key), GetItem (device and policy
 * re-reads), and the writes of a transition (TransactWriteItems over the device, entries, events,
 * counters, versions and outbox, UpdateItem of the due marker, Put/Delete of job progress): the
 * write level. `npm run test:deployed` proves it against the calls the bundled sweeper makes.
 */
export const SWEEPER_TABLE_ACTIONS: readonly string[] = TABLE_WRITE_ACTIONS;

/** A sweep stops starting work 10 s before its remaining time runs out (the handler's safety margin). */
export const SWEEPER_TIMEOUT = Duration.minutes(5);

export interface SweeperProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
}

export class Sweeper extends Construct {
  readonly function: ServiceFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    const { config, table } = props;

    // No reserved concurrency: every device is handled by its own conditional write, so runs that
    // overlap (a slow run, a short rate) cannot record a transition twice.
    this.function = new ServiceFunction(this, 'Sweep', {
      entry: 'scheduled/sweep',
      description: `Status sweeper (every ${config.sweepRateMinutes} min)`,
      config,
      table,
      tableAccess: { actions: SWEEPER_TABLE_ACTIONS },
      timeout: SWEEPER_TIMEOUT,
      memorySize: 512,
    });
    // A failed run is not retried: the next scheduled run is the retry, and it starts from what is due then.
    this.function.function.configureAsyncInvoke({ retryAttempts: 0 });

    this.rule = new Rule(this, 'Schedule', {
      description: `Runs the Device Manager status sweeper (${config.stageName}) every ${config.sweepRateMinutes} min`,
      schedule: Schedule.rate(Duration.minutes(config.sweepRateMinutes)),
      targets: [new LambdaFunction(this.function.function)],
    });
  }
}
