/**
 * Alarms and a dashboard for operators: API 5xx rate, sweeper errors and lag, function errors, and
 * the service's own metrics (embedded metric format from Powertools, namespace DeviceManager,
 * dimension `service`). Alarms have no action: attach your SNS topic or incident tool to them.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, type IAlarm, type IMetric, SingleValueWidget, TextWidget, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/shared/observability-names';
import type { DeploymentConfig } from '../config';

export interface MonitoringProps {
  readonly config: DeploymentConfig;
  readonly api: HttpApi;
  readonly apiFunctions: readonly IFunction[];
  readonly sweeper: IFunction;
}

export class Monitoring extends Construct {
  readonly alarms: IAlarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, api, sweeper } = props;
    const serviceMetric = (name: string, statistic: string, dimensions: Record<string, string> = {}) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: name, statistic, period: Duration.minutes(5), dimensionsMap: { service: SERVICE_NAME, ...dimensions } });

    const requests = api.metricCount({ period: Duration.minutes(5), statistic: 'Sum' });
    const errors5xx = api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' });
    const errorRate = new MathExpression({ expression: '100 * errors / MAX([requests, 1])', usingMetrics: { errors: errors5xx, requests }, label: '5xx %', period: Duration.minutes(5) });
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
    this.alarms.push(
      new Alarm(this, 'SweepLag', {
        alarmDescription: `A status boundary waited more than twice the sweep interval (${lagLimitSeconds} s) to be persisted`,
        metric: serviceMetric(METRIC.sweepLag, 'Maximum'),
        threshold: lagLimitSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.BREACHING,
      }),
    );

    const functionErrors: IMetric[] = [...props.apiFunctions, sweeper].map((f) => f.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }));
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `DeviceManager-${config.stageName}` });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# Device Manager (${config.stageName})\nAPI, lifecycle metrics and the status sweeper.`, width: 24, height: 2 }),
      new GraphWidget({ title: 'API requests and 5xx', left: [requests, errors5xx], right: [errorRate], width: 12 }),
      new GraphWidget({ title: 'API latency (p50, p99)', left: [api.metricLatency({ statistic: 'p50' }), api.metricLatency({ statistic: 'p99' })], width: 12 }),
      new GraphWidget({ title: 'Devices created', left: [serviceMetric(METRIC.devicesCreated, 'Sum')], width: 8 }),
      new GraphWidget({
        title: 'Status transitions by status',
        left: ['ACTIVE', 'RENEWAL_PENDING', 'EXPIRING_SOON', 'EXPIRED', 'REVOKED', 'DECOMMISSIONED'].map((status) => serviceMetric(METRIC.statusTransitions, 'Sum', { status })),
        width: 8,
      }),
      new GraphWidget({ title: 'Sweep duration (ms) and lag (s)', left: [serviceMetric(METRIC.sweepDuration, 'Maximum')], right: [serviceMetric(METRIC.sweepLag, 'Maximum')], width: 8 }),
      new GraphWidget({ title: 'Function errors', left: functionErrors, width: 16, stacked: true }),
      new SingleValueWidget({ title: 'Sweep failures (devices left for the next run)', metrics: [serviceMetric(METRIC.sweepFailures, 'Sum')], width: 8 }),
    );
  }
}
