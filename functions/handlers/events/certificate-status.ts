/**
 * Certificate status intake (docs/api.md, Events on EventBridge, consumed): an EventBridge rule on DetailType
 * `certificate.status.update` → here. The stored version holding `detail.data.updated.serial_number`
 * follows the reported status (REVOKED, ACTIVE, EXPIRED). A serial that belongs to no device is
 * acknowledged and counted (metric UnknownSerials), and so is an event that cannot be read: neither
 * would ever succeed on a retry. Anything else that fails throws, so the invocation is retried and
 * then dead-lettered.
 */
import type { Context, EventBridgeEvent } from 'aws-lambda';
// Named imports: `z` would pull all of zod (locales included) into the bundle.
import { enum as enumOf, looseObject, object, string } from 'zod';
import type { CertificateStatusResult } from '../../app/devices';
import { CERTIFICATE_STATUS_DETAIL_TYPE, CERTIFICATE_STATUSES, type CertificateStatus, revocationReasonOf } from '../../domain/slots';
import { devices } from '../../shared/compose/devices';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../shared/observability';

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
  outcome: 'applied' | 'unknown-serial' | 'invalid';
  serial?: string;
  status?: CertificateStatus;
  results: CertificateStatusResult[];
}

export async function handler(event: EventBridgeEvent<string, unknown>, context?: Partial<Context>): Promise<CertificateIntakeReport> {
  if (context?.functionName) logger.addContext(context as Context);
  const parsed = detailSchema.safeParse(event.detail);
  if (!parsed.success) {
    logger.error('certificate.status.update: unreadable event, acknowledged', { eventId: event.id, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    return { outcome: 'invalid', results: [] };
  }
  const { updated, reason: dataReason } = parsed.data.data;
  const reasonText = updated.revocation_reason ?? dataReason;
  const reason = reasonText === undefined ? undefined : revocationReasonOf(reasonText);
  if (reasonText !== undefined && reason === undefined) logger.warn('certificate.status.update: unknown revocation reason, using Unspecified', { reason: reasonText });

  const results = await devices().applyCertificateStatus(updated.serial_number, updated.status, reason);
  const detail = { eventId: event.id, serial: updated.serial_number, status: updated.status };
  if (results.length === 0) {
    metrics.addMetric(METRIC.unknownSerials, MetricUnit.Count, 1);
    flushMetrics();
    logger.warn('certificate.status.update: the serial belongs to no device; acknowledged', { metric: 'UnknownSerial', ...detail });
    return { outcome: 'unknown-serial', serial: updated.serial_number, status: updated.status, results };
  }
  logger.info('certificate.status.update applied', { ...detail, results });
  return { outcome: 'applied', serial: updated.serial_number, status: updated.status, results };
}
