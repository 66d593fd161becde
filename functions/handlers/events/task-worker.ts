/**
 * The job worker (SQS → Lambda, ReportBatchItemFailures): one task per message, run until the
 * function's time budget (less a safety margin) by the handler of its kind (composition/task-composition.ts).
 * A task that throws is reported and delivered again, then dead-lettered; a body that is not a task
 * is logged and acknowledged (retrying cannot mend it).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Task } from '../../app/ports';
import { addCounts, type TaskCounts } from '../../app/tasks';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';
import { jobWorker, taskQueues } from '../../composition/task-composition';

/** Time kept free at the end of an invocation for the last writes and the report. */
const SAFETY_MS = 10_000;

/** The task a message carries, or undefined when the body is not one. */
export function taskOf(body: string): Task | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as Task).kind === 'string') return value as Task;
  } catch {
    // not JSON: reported below
  }
  return undefined;
}

export async function handler(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SQSBatchResponse> {
  const deadline = Date.now() + Math.max(1000, context.getRemainingTimeInMillis() - SAFETY_MS);
  const run = jobWorker();
  const queue = taskQueues();
  const log = (message: string, detail: Record<string, unknown>) => logger.warn(message, detail);
  const totals: TaskCounts = {};
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const task = taskOf(record.body);
    if (!task) {
      logger.error('message is not a task; acknowledged', { messageId: record.messageId });
      continue;
    }
    try {
      addCounts(totals, await run(task, { deadline, queue, log }));
    } catch (error) {
      logger.error('task failed; SQS delivers it again', { messageId: record.messageId, kind: task.kind, error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  if (totals.failed) metrics.addMetric(METRIC.sweepFailures, MetricUnit.Count, totals.failed);
  flushMetrics();
  logger.info('tasks done', { tasks: event.Records.length, ...totals });
  return { batchItemFailures };
}
