/** Scheduled sweeper (EventBridge Scheduler / rule → Lambda). Stops before its time budget runs out. */
import type { Context } from 'aws-lambda';
import { sweep, type SweepReport } from '../../app/sweep';
import { services, systemClock } from '../../shared/composition';

/** Time kept free at the end of an invocation for the last writes and the report. */
const SAFETY_MS = 10_000;

export async function handler(_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepReport> {
  const { repository, policies, devices } = services();
  const started = Date.now();
  const report = await sweep(
    { devices: repository, policies, service: devices, clock: systemClock },
    { deadline: started + Math.max(1000, context.getRemainingTimeInMillis() - SAFETY_MS), log: (message, detail) => console.warn(JSON.stringify({ message, ...detail })) },
  );
  console.log(JSON.stringify({ message: 'sweep finished', durationMs: Date.now() - started, ...report }));
  return report;
}
