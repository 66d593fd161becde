/**
 * Alarms and a dashboard for operators: API 5xx rate, sweeper errors and lag, function errors, and
 * the service's own metrics (embedded metric format from Powertools, namespace DeviceManager,
 * dimension `service`). Alarm actions: the `alarms` setting (lib/constructs/alarm-actions.ts).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  type IAlarm,
  type IMetric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/runtime/observability-names';
import type { DeploymentConfig } from '../config';

export interface MonitoringProps {
  readonly config: DeploymentConfig;
  readonly api: HttpApi;
  readonly apiFunctions: readonly IFunction[];
  readonly sweeper: IFunction;
  /** Every other function of the stack (publisher, certificate intake, IoT sync...): each gets an error alarm. */
  readonly otherFunctions: readonly IFunction[];
  /** The outbox publisher, fed by the table stream: its iterator age says how late events are. */
  readonly publisher: IFunction;
}

/** Iterator age (ms) of the outbox stream beyond which events are late enough to page someone. */
export const ITERATOR_AGE_LIMIT_MS = 10 * 60 * 1000;

/**
 * Period and missing-data rule of the SweepLag alarm for a sweep interval: two intervals (at most a
 * day, CloudWatch's longest evaluation range), so every period holds at least one run of a live
 * sweeper and no data means it stopped (breaching). When two intervals exceed a day, a period may
 * hold no run at all: missing data then keeps the alarm's state.
 */
/** CloudWatch's limit of metrics in one metric math alarm. */
export const FUNCTIONS_PER_ERROR_ALARM = 10;

export function sweepLagAlarmShape(sweepRateMinutes: number): {
  periodMinutes: number;
  treatMissingData: TreatMissingData;
} {
  const periodMinutes = Math.min(2 * sweepRateMinutes, 1440);
  return {
    periodMinutes,
    treatMissingData: 2 * sweepRateMinutes <= 1440 ? TreatMissingData.BREACHING : TreatMissingData.MISSING,
  };
}

export class Monitoring extends Construct {
  readonly alarms: IAlarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, api, sweeper } = props;
    const serviceMetric = (name: string, statistic: string, dimensions: Record<string, string> = {}) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        statistic,
        period: Duration.minutes(5),
        dimensionsMap: { service: SERVICE_NAME, ...dimensions },
      });

    const requests = api.metricCount({ period: Duration.minutes(5), statistic: 'Sum' });
    const errors5xx = api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' });
    const errorRate = new MathExpression({
      expression: '100 * errors / MAX([requests, 1])',
      usingMetrics: { errors: errors5xx, requests },
      label: '5xx %',
      period: Duration.minutes(5),
    });
    this.alarms.push(
      new Alarm(this, 'Api5xxRate', {
        alarmDescription: 'More than 1% of API requests answered 5xx over 15 minutes',
        metric: errorRate,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    this.alarms.push(
      new Alarm(this, 'SweeperErrors', {
        alarmDescription: 'The sweeper failed (the next run retries, but transitions are late)',
        metric: sweeper.metricErrors({ period: Duration.minutes(config.sweepRateMinutes), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const lagLimitSeconds = 2 * config.sweepRateMinutes * 60;
    const lag = sweepLagAlarmShape(config.sweepRateMinutes);
    this.alarms.push(
      new Alarm(this, 'SweepLag', {
        alarmDescription:
          `A status boundary waited more than twice the sweep interval ` +
          `(${lagLimitSeconds} s) to be persisted, or the sweeper reported ` +
          `nothing for ${lag.periodMinutes} minutes`,
        metric: serviceMetric(METRIC.sweepLag, 'Maximum').with({ period: Duration.minutes(lag.periodMinutes) }),
        threshold: lagLimitSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: lag.treatMissingData,
      }),
    );

    this.alarms.push(
      new Alarm(this, 'OutboxIteratorAge', {
        alarmDescription:
          `The outbox publisher is more than ${ITERATOR_AGE_LIMIT_MS / 60000} ` +
          `minutes behind the table stream (records expire after 24 ` +
          `h)`,
        metric: props.publisher.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: ITERATOR_AGE_LIMIT_MS,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        // No writes, no batches: nothing is late.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // Every function but the sweeper (alarmed above on its own interval): an unhandled error, a timeout
    // or a crash. API functions answer errors as responses, so any Lambda error there is a real fault.
    // One alarm watches the summed errors of up to ten functions (the most a metric math alarm may
    // read): an alarm per function would cost 60 of CloudFormation's 500 resources per stack. The
    // description names the functions; the dashboard's errors graph shows which one failed.
    const watched = [...props.apiFunctions, ...props.otherFunctions];
    for (let first = 0; first < watched.length; first += FUNCTIONS_PER_ERROR_ALARM) {
      const group = watched.slice(first, first + FUNCTIONS_PER_ERROR_ALARM);
      const usingMetrics = Object.fromEntries(
        group.map((fn, i) => [`e${i}`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })]),
      );
      this.alarms.push(
        new Alarm(this, `FunctionErrors${first / FUNCTIONS_PER_ERROR_ALARM + 1}`, {
          alarmDescription:
            'A function failed (unhandled error, timeout or crash): ' +
            group.map((fn) => fn.node.scope!.node.path.split('/').slice(1).join('/')).join(', '),
          metric: new MathExpression({
            // FILL: a function without errors reports nothing, which must count as 0, not blank the sum.
            expression: Object.keys(usingMetrics)
              .map((id) => `FILL(${id}, 0)`)
              .join(' + '),
            usingMetrics,
            period: Duration.minutes(5),
          }),
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const functionErrors: IMetric[] = [...props.apiFunctions, ...props.otherFunctions, sweeper].map((f) =>
      f.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
    // Dashboards are global to the account: the region keeps the same stage in two regions apart.
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `DeviceManager-${config.stageName}-${Stack.of(this).region}`,
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Device Manager (${config.stageName})\nAPI, lifecycle metrics and the status sweeper.`,
        width: 24,
        height: 2,
      }),
      new GraphWidget({ title: 'API requests and 5xx', left: [requests, errors5xx], right: [errorRate], width: 12 }),
      new GraphWidget({
        title: 'API latency (p50, p99)',
        left: [api.metricLatency({ statistic: 'p50' }), api.metricLatency({ statistic: 'p99' })],
        width: 12,
      }),
      new GraphWidget({ title: 'Devices created', left: [serviceMetric(METRIC.devicesCreated, 'Sum')], width: 8 }),
      new GraphWidget({
        title: 'Status transitions by status',
        left: ['ACTIVE', 'RENEWAL_PENDING', 'EXPIRING_SOON', 'EXPIRED', 'REVOKED', 'DECOMMISSIONED'].map((status) =>
          serviceMetric(METRIC.statusTransitions, 'Sum', { status }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Sweep duration (ms) and lag (s)',
        left: [serviceMetric(METRIC.sweepDuration, 'Maximum')],
        right: [serviceMetric(METRIC.sweepLag, 'Maximum')],
        width: 8,
      }),
      new GraphWidget({ title: 'Function errors', left: functionErrors, width: 16, stacked: true }),
      new SingleValueWidget({
        title: 'Sweep failures (devices left for the next run)',
        metrics: [serviceMetric(METRIC.sweepFailures, 'Sum')],
        width: 8,
      }),
    );
  }
}
