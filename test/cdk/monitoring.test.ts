/** Alarms and dashboard: the operator's view of the service. */
import { Match } from 'aws-cdk-lib/assertions';
import { METRIC, METRICS_NAMESPACE } from '../../functions/runtime/observability-names';
import { synthesize } from './helpers';

describe('monitoring', () => {
  const { template } = synthesize();

  it('alarms on an API 5xx rate above 1% (metric math over the stage metrics)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('5xx'),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * errors / MAX([requests, 1])' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: '5xx', Namespace: 'AWS/ApiGateway' }),
          }),
        }),
        Match.objectLike({
          Id: 'requests',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'Count', Namespace: 'AWS/ApiGateway' }),
          }),
        }),
      ]),
    });
  });

  it('alarms on sweeper errors and on a sweep lag above twice the interval', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('sweeper failed'),
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.sweepLag,
      Namespace: METRICS_NAMESPACE,
      Threshold: 600,
      Dimensions: [{ Name: 'service', Value: 'device-manager' }],
      TreatMissingData: 'breaching',
    });
    const slow = synthesize({ sweepRateMinutes: 15 });
    slow.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRIC.sweepLag, Threshold: 1800 });
  });

  it('has a dashboard with the lifecycle metrics', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0]!.Properties.DashboardBody);
    for (const name of [METRIC.devicesCreated, METRIC.statusTransitions, METRIC.sweepDuration, METRIC.sweepLag, '5xx'])
      expect(body).toContain(name);
    template.hasOutput('DashboardName', {});
  });
});
