/**
 * Presence (docs/events.md, Presence: connectivity): an AWS IoT rule on `$aws/events/presence/+/+` → SQS →
 * here (ReportBatchItemFailures). The newest event per client is applied; a change that must wait for its
 * device's minute is reported failed, so SQS delivers it again after the visibility timeout and it is decided
 * anew; an unreadable message fails too (after five receives it rests in the dead-letter queue).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { presence } from '../../composition/presence';
import { type PresenceEvent, presenceEventOf } from '../../domain/connectivity';
import { flushMetrics, logger } from '../../runtime/observability';

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failed: string[] = [];
  const events: PresenceEvent[] = [];
  const messagesOf = new Map<string, string[]>();
  for (const record of event.Records) {
    let parsed: PresenceEvent | undefined;
    try {
      parsed = presenceEventOf(JSON.parse(record.body));
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      logger.error('presence: not a presence event', { messageId: record.messageId });
      failed.push(record.messageId);
      continue;
    }
    events.push(parsed);
    messagesOf.set(parsed.clientId, [...(messagesOf.get(parsed.clientId) ?? []), record.messageId]);
  }
  const report = await presence().apply(events);
  for (const clientId of report.deferred) failed.push(...(messagesOf.get(clientId) ?? []));
  logger.info('presence: applied', {
    written: report.written,
    deferred: report.deferred.length,
    dropped: report.dropped,
    unknown: report.unknown.length,
  });
  if (report.unknown.length > 0) logger.warn('presence: client ids that name no device', { clients: report.unknown });
  flushMetrics();
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
