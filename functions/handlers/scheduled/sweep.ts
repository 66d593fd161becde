/** Scheduled sweeper (EventBridge schedule → Lambda). Stops before its time budget runs out. */
import type { Context } from 'aws-lambda';
import { sweep, type SweepReport } from '../../app/sweep';
import { systemClock } from '../../composition/context';
import { devices as deviceUseCases } from '../../composition/devices';
import { deviceRepository, policyRepository } from '../../composition/repositories';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';

/** Time kept free at the end of an invocation for the last writes and the report. */
const SAFETY_MS = 10_000;

export async function handler(
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepReport> {
  const [repository, policies, devices] = [deviceRepository(), policyRepository(), deviceUseCases()];
  const started = Date.now();
  const report = await sweep(
    { devices: repository, policies, service: devices, clock: systemClock },
    {
      deadline: started + Math.max(1000, context.getRemainingTimeInMillis() - SAFETY_MS),
      log: (message, detail) => logger.warn(message, detail),
    },
  );
  const durationMs = Date.now() - started;
  metrics.addMetric(METRIC.sweepDuration, MetricUnit.Milliseconds, durationMs);
  // Lag: how long the oldest boundary this run found had already passed (0 when nothing was due).
  metrics.addMetric(
    METRIC.sweepLag,
    MetricUnit.Seconds,
    report.oldestDue === undefined ? 0 : Math.max(0, (started - report.oldestDue) / 1000),
  );
  metrics.addMetric(METRIC.sweepFailures, MetricUnit.Count, report.failed);
  flushMetrics();
  logger.info('sweep finished', { durationMs, ...report });
  return report;
}
