/**
 * Structured JSON logs and CloudWatch metrics (embedded metric format) with Powertools for AWS Lambda.
 * One logger and one metrics instance per process; handlers add correlation ids (request id, device
 * id, event id) as keys. Locally and in tests, POWERTOOLS_METRICS_DISABLED=true keeps EMF off stdout.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './observability-names';

export { METRIC, METRICS_NAMESPACE, SERVICE_NAME };

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});

export { MetricUnit };

/** Publishes what a handler recorded; nothing when it recorded nothing (no empty EMF blobs). */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
