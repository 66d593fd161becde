/**
 * Structured JSON logs and CloudWatch metrics (embedded metric format) with Powertools for AWS Lambda.
 * One logger and one metrics instance per process; handlers add correlation ids (request id, device
 * id, event id) as keys. Locally and in tests, POWERTOOLS_METRICS_DISABLED=true keeps EMF off stdout.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'device-manager';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'DeviceManager', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

/** Metric names, in one place so dashboards and alarms (lib/) name the same ones. */
export const METRIC = {
  devicesCreated: 'DevicesCreated',
  statusTransitions: 'StatusTransitions',
  sweepDuration: 'SweepDuration',
  sweepLag: 'SweepLag',
  sweepFailures: 'SweepFailures',
  publishFailures: 'PublishFailures',
  unknownSerials: 'UnknownSerials',
  iotSyncFailures: 'IotSyncFailures',
} as const;

export { MetricUnit };

/** Publishes what a handler recorded; nothing when it recorded nothing (no empty EMF blobs). */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
