/**
 * Sweep dispatcher (EventBridge schedule → Lambda): begins a run and sends its tasks to the job
 * queues (app/sweep.ts), and resumes stalled remediation jobs (app/jobs.ts); the task worker
 * (handlers/events/task-worker.ts) does the work.
 */
import { dispatchSweep, type DispatchReport } from '../../app/sweep';
import { sweepDeps } from '../../composition/sweep';
import { flushMetrics, logger, METRIC, metrics, MetricUnit } from '../../runtime/observability';
import { taskQueues } from '../../composition/task-composition';
import { jobs } from '../../composition/jobs';
import { JOB_STALL_MS } from '../../app/jobs';

export async function handler(): Promise<DispatchReport & { jobsResumed: number }> {
  const started = Date.now();
  const dispatched = await dispatchSweep(sweepDeps(), taskQueues());
  // Remediation jobs whose walk stopped moving (a task lost with a crashed worker) get a task again.
  const report = { ...dispatched, jobsResumed: await jobs().resumeStalled(taskQueues(), JOB_STALL_MS) };
  const durationMs = Date.now() - started;
  metrics.addMetric(METRIC.sweepDuration, MetricUnit.Milliseconds, durationMs);
  // Lag: how long the oldest boundary still due had already passed (0 when nothing was due).
  metrics.addMetric(
    METRIC.sweepLag,
    MetricUnit.Seconds,
    report.oldestDue === undefined ? 0 : Math.max(0, (started - report.oldestDue) / 1000),
  );
  flushMetrics();
  logger.info('sweep dispatched', { durationMs, ...report });
  return report;
}
