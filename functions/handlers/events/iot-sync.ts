/**
 * AWS IoT Core registry sync (docs/api.md, AWS IoT Core registry sync): EventBridge rule on the device events → SQS →
 * here (SQS
 * event source with ReportBatchItemFailures). The messages of one device in a batch are synced once,
 * from the stored device; a device that fails reports all its messages, which SQS delivers again
 * and, after five receives, moves to the dead-letter queue.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SyncHints } from '../../app/iot-sync';
import { type ArnOwner, iotSyncService } from '../../composition/iot-composition';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';

/**
 * Devices synced at once within a batch: all of a full batch. The call rate is bounded per AWS IoT API by
 * the pacer (IOT_API_RATES), not by holding syncs back.
 */
const CONCURRENCY = 10;

interface DeviceWork {
  messageIds: string[];
  superseded: Set<number>;
}

/** The partition and account of a function ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`). */
export function ownerOf(functionArn: string | undefined): ArnOwner {
  const parts = functionArn?.split(':') ?? [];
  return { partition: parts[1] || 'aws', account: parts[4] ?? '' };
}

/** The DMS a `dms.update` is about (its AWS IoT settings may have changed); undefined for other events. */
export function dmsOf(body: string): string | undefined {
  const event = JSON.parse(body) as { detail?: { type?: string; subject?: string } };
  if (event.detail?.type !== 'dms.update') return undefined;
  return /^dms\/(.+)$/.exec(event.detail.subject ?? '')?.[1];
}

/** The device a bus event is about, and what it hints; undefined for events that are not a device's. */
export function deviceWorkOf(body: string): { deviceId: string; supersededIdentityVersion?: number } | undefined {
  const event = JSON.parse(body) as {
    detail?: {
      type?: string;
      subject?: string;
      data?: { previous?: { active_version?: number } | null; updated?: { active_version?: number } | null };
    };
  };
  const match = /^device\/(.+)$/.exec(event.detail?.subject ?? '');
  // Posture findings change nothing AWS IoT holds (the rule takes every `device.*` type).
  if (!match || event.detail?.type?.startsWith('device.finding.')) return undefined;
  const { type, data } = event.detail ?? {};
  const before = data?.previous?.active_version;
  const after = data?.updated?.active_version;
  const superseded =
    type === 'device.identity.update' && typeof before === 'number' && before !== after ? before : undefined;
  return { deviceId: match[1]!, ...(superseded === undefined ? {} : { supersededIdentityVersion: superseded }) };
}

export async function handler(
  event: SQSEvent,
  context: Pick<Context, 'invokedFunctionArn'> & Partial<Context>,
): Promise<SQSBatchResponse> {
  if (context.functionName) logger.addContext(context as Context);
  const { config, sync } = iotSyncService(ownerOf(context.invokedFunctionArn));
  if (!config.enabled) {
    logger.info('iot-sync is disabled (IOT_SYNC_ENABLED); messages acknowledged', { messages: event.Records.length });
    return { batchItemFailures: [] };
  }
  const failed: string[] = [];
  const work = new Map<string, DeviceWork>();
  /** DMSs whose settings changed: their AWS IoT resources are brought in line first (docs/iot-provisioning.md). */
  const dmsWork = new Map<string, string[]>();
  for (const record of event.Records) {
    let target: ReturnType<typeof deviceWorkOf>;
    try {
      const dms = dmsOf(record.body);
      if (dms !== undefined) {
        dmsWork.set(dms, [...(dmsWork.get(dms) ?? []), record.messageId]);
        continue;
      }
      target = deviceWorkOf(record.body);
    } catch (error) {
      // Unreadable: fail it, so it ends in the dead-letter queue for a look rather than vanishing.
      logger.error('iot-sync: unreadable message', {
        messageId: record.messageId,
        error: error instanceof Error ? error.message : String(error),
      });
      failed.push(record.messageId);
      continue;
    }
    if (!target) continue;
    const entry = work.get(target.deviceId) ?? { messageIds: [], superseded: new Set<number>() };
    entry.messageIds.push(record.messageId);
    if (target.supersededIdentityVersion !== undefined) entry.superseded.add(target.supersededIdentityVersion);
    work.set(target.deviceId, entry);
  }

  for (const [dms, messageIds] of dmsWork) {
    try {
      const report = await sync.syncDms(dms);
      logger.info('iot-sync: DMS resources synced', { dms, ...report });
    } catch (error) {
      metrics.addMetric(METRIC.iotSyncFailures, MetricUnit.Count, 1);
      logger.error('iot-sync: DMS failed; its messages will be delivered again', {
        dms,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      failed.push(...messageIds);
    }
  }

  const queue = [...work.entries()];
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [deviceId, { messageIds, superseded }] = next;
        const hints: SyncHints = { supersededIdentityVersions: [...superseded] };
        try {
          const report = await sync.syncDevice(deviceId, hints);
          logger.info('iot-sync: device synced', { ...report });
        } catch (error) {
          metrics.addMetric(METRIC.iotSyncFailures, MetricUnit.Count, 1);
          logger.error('iot-sync: device failed; its messages will be delivered again', {
            deviceId,
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          });
          failed.push(...messageIds);
        }
      }
    }),
  );
  flushMetrics();
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
