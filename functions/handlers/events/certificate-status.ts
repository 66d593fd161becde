/**
 * Certificate status intake (docs/api.md, Events on EventBridge, consumed): an EventBridge rule on DetailType
 * `certificate.status.update` → an SQS queue → here (SQS event source with ReportBatchItemFailures).
 * The stored version holding `detail.data.updated.serial_number` follows the reported status
 * (REVOKED, ACTIVE, EXPIRED).
 *
 * Versions are found by serial through a global secondary index, which DynamoDB reads eventually
 * consistently: right after a bind, the index may not have the new version yet. A serial not found
 * is therefore retried (a batch item failure: SQS delivers it again after the queue's visibility
 * timeout) until UNKNOWN_SERIAL_RETRY_SECONDS have passed since the message entered the queue; still
 * not found then, it belongs to no device: acknowledged and counted (metric UnknownSerials), as is an
 * event that cannot be read (it would never succeed). Anything else that fails is a batch item
 * failure too: delivered again, then dead-lettered by the queue.
 */
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
// Named imports: `z` would pull all of zod (locales included) into the bundle.
import { enum as enumOf, looseObject, object, string } from 'zod';
import type { CertificateStatusResult } from '../../app/devices';
import {
  CERTIFICATE_STATUS_DETAIL_TYPE,
  CERTIFICATE_STATUSES,
  type CertificateStatus,
  revocationReasonOf,
} from '../../domain/slots';
import { devices } from '../../composition/devices';
import { unknownSerialRetrySecondsOf } from '../../runtime/config';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';

export { CERTIFICATE_STATUS_DETAIL_TYPE };

/** `detail` is a CloudEvents envelope whose `data.updated` is the certificate (other fields are kept and ignored). */
const detailSchema = object({
  data: object({
    updated: looseObject({
      serial_number: string().regex(/[0-9a-fA-F]/, 'must hold hex digits'),
      status: string()
        .transform((s) => s.toUpperCase())
        .pipe(enumOf(CERTIFICATE_STATUSES)),
      revocation_reason: string().optional(),
    }),
    reason: string().optional(),
  }),
});

export interface CertificateIntakeReport {
  /** `retry`: the serial was not found yet, and the retry window is still open. */
  outcome: 'applied' | 'unknown-serial' | 'invalid' | 'retry';
  serial?: string;
  status?: CertificateStatus;
  results: CertificateStatusResult[];
}

export interface IntakeOptions {
  /** Until when (epoch ms) a serial not found is retried rather than acknowledged; unset: never retried. */
  retryUntil?: number;
  /** Epoch ms; default Date.now(). */
  now?: number;
}

/** Applies one `certificate.status.update` event: the report says what happened, `retry` asks for a later delivery. */
export async function intake(
  event: EventBridgeEvent<string, unknown>,
  { retryUntil, now = Date.now() }: IntakeOptions = {},
): Promise<CertificateIntakeReport> {
  const parsed = detailSchema.safeParse(event.detail);
  if (!parsed.success) {
    logger.error('certificate.status.update: unreadable event, acknowledged', {
      eventId: event.id,
      problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });
    return { outcome: 'invalid', results: [] };
  }
  const { updated, reason: dataReason } = parsed.data.data;
  const reasonText = updated.revocation_reason ?? dataReason;
  const reason = reasonText === undefined ? undefined : revocationReasonOf(reasonText);
  if (reasonText !== undefined && reason === undefined)
    logger.warn('certificate.status.update: unknown revocation reason, using Unspecified', { reason: reasonText });

  const results = await devices().applyCertificateStatus(updated.serial_number, updated.status, reason);
  const detail = { eventId: event.id, serial: updated.serial_number, status: updated.status };
  if (results.length === 0 && retryUntil !== undefined && now < retryUntil) {
    logger.info('certificate.status.update: serial not found yet (the serial index may lag the bind); retried later', {
      ...detail,
      retryUntil: new Date(retryUntil).toISOString(),
    });
    return { outcome: 'retry', serial: updated.serial_number, status: updated.status, results };
  }
  if (results.length === 0) {
    metrics.addMetric(METRIC.unknownSerials, MetricUnit.Count, 1);
    flushMetrics();
    logger.warn(
      `certificate.status.update: ` +
        `the serial belongs ` +
        `to no device${retryUntil === undefined ? '' : ' (retried until the window closed)'}; ` +
        `acknowledged`,
      { metric: 'UnknownSerial', ...detail },
    );
    return { outcome: 'unknown-serial', serial: updated.serial_number, status: updated.status, results };
  }
  logger.info('certificate.status.update applied', { ...detail, results });
  return { outcome: 'applied', serial: updated.serial_number, status: updated.status, results };
}

/**
 * When the message entered the queue (SentTimestamp), else the event's time: the retry window runs
 * from there. The queue's clock, not the CA's: a replay from the archive, whose event time is old,
 * still gets the whole window, and a producer's clock skew does not matter.
 */
export function firstSeenOf(
  record: Pick<SQSRecord, 'attributes'>,
  event: Pick<EventBridgeEvent<string, unknown>, 'time'>,
  now = Date.now(),
): number {
  const sent = Number(record.attributes?.SentTimestamp);
  if (Number.isFinite(sent) && sent > 0) return sent;
  const time = Date.parse(event.time);
  return Number.isFinite(time) ? time : now;
}

export async function handler(event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> {
  if (context?.functionName) logger.addContext(context as Context);
  const retryWindowMs = unknownSerialRetrySecondsOf(process.env) * 1000;
  const failed: string[] = [];
  // One at a time, in the batch's order: two reports of one serial (a hold, then its release) keep their order.
  for (const record of event.Records) {
    let busEvent: EventBridgeEvent<string, unknown>;
    try {
      busEvent = JSON.parse(record.body) as EventBridgeEvent<string, unknown>;
    } catch {
      logger.error('certificate.status.update: unreadable message, acknowledged', { messageId: record.messageId });
      continue;
    }
    try {
      const report = await intake(busEvent, { retryUntil: firstSeenOf(record, busEvent) + retryWindowMs });
      if (report.outcome === 'retry') failed.push(record.messageId);
    } catch (error) {
      logger.error('certificate.status.update failed; the message will be delivered again', {
        messageId: record.messageId,
        eventId: busEvent.id,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      failed.push(record.messageId);
    }
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
