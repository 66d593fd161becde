/**
 * The not-seen metric (docs/events.md, Presence: connectivity): on a schedule, the devices in service that
 * disconnected and were not seen for NOT_SEEN_DAYS days, as the metric DevicesNotSeen (the stack alarms on it).
 */
import { presence } from '../../composition/presence';
import { ConfigError } from '../../runtime/config';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';

export function notSeenDaysOf(env: Record<string, string | undefined> = process.env): number {
  const days = Number(env.NOT_SEEN_DAYS ?? '7');
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new ConfigError('NOT_SEEN_DAYS', `must be a whole number of days from 1 to 3650, got '${env.NOT_SEEN_DAYS}'`);
  return days;
}

export async function handler(): Promise<{ days: number; notSeen: number }> {
  const days = notSeenDaysOf();
  const notSeen = await presence().notSeenFor(days);
  metrics.addMetric(METRIC.devicesNotSeen, MetricUnit.Count, notSeen);
  flushMetrics();
  logger.info('devices not seen counted', { days, notSeen });
  return { days, notSeen };
}
