/**
 * The CA revocation call (setting caApiUrl): EventBridge rule on `ca.certificate.revoke.request` →
 * SQS → here (SQS event source with ReportBatchItemFailures). Each request goes to Lamassu's CA
 * (functions/app/ca-revocation.ts); what still fails after the in-invocation retries is reported,
 * delivered again by SQS and, after five receives, moved to the dead-letter queue.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { caRevocation } from '../../composition/ca-composition';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';

export async function handler(event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> {
  if (context?.functionName) logger.addContext(context as Context);
  const report = await caRevocation().handleBatch(event.Records.map(({ messageId, body }) => ({ messageId, body })));
  if (report.counts.failed > 0) metrics.addMetric(METRIC.caRevocationFailures, MetricUnit.Count, report.counts.failed);
  if (report.counts['unknown-serial'] > 0)
    metrics.addMetric(METRIC.caUnknownSerials, MetricUnit.Count, report.counts['unknown-serial']);
  flushMetrics();
  logger.info('ca-revocation: batch done', { messages: event.Records.length, ...report.counts });
  return { batchItemFailures: report.failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
