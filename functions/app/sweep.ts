/**
 * The sweeper: persists time-driven status transitions by reading only the devices that are due
 * (the sparse due index), re-evaluates the devices of DMSs whose policy changed, and back-fills
 * newly indexed keys. A dispatcher (every sweep interval) turns the work into tasks: one per due
 * segment with something due, on the transitions queue; one back-fill task and one per unfinished
 * segment of each policy job, on the jobs queue, so a long back-fill never holds transitions back.
 * A due task reads one page and first sends the task for the next page, so a segment's backlog
 * spreads over every worker.
 *
 * Every device is handled by its own conditional write, so a crash leaves nothing half done: its
 * devices stay due (or its job keeps its progress) and the next dispatch finds them. Each dispatch
 * begins a new run; tasks of an older run stop at their next step, so overlapping runs do not walk
 * the same backlog twice, and racing workers cannot record a transition twice.
 */
import type { Device } from '../domain/device';
import type { DmsPolicy } from '../domain/policy';
import type { DeviceService } from './devices';
import type { Clock, IdGenerator, PolicyRepository, PostureRepository, SweepIndex, Task, TaskQueue } from './ports';
import { postureHandlers, postureTasks } from './posture';
import {
  addCounts,
  allIdle,
  inProcessQueue,
  routedQueue,
  type TaskContext,
  type TaskCounts,
  type TaskHandler,
  taskRunner,
} from './tasks';

export interface SweepDeps {
  index: SweepIndex;
  policies: PolicyRepository;
  service: Pick<DeviceService, 'refresh'> & Partial<Pick<DeviceService, 'reassess' | 'cachePolicies'>>;
  clock: Clock;
  /** The posture policy's re-evaluation job (app/posture.ts): walked with the policy jobs when given. */
  posture?: PostureRepository;
  /** Run ids; random by default. */
  newId?: IdGenerator;
}

/** The task kinds of the sweeper (other background jobs register their own). */
export const SWEEP_TASKS = {
  due: 'sweep.due',
  policy: 'sweep.policy',
  backfill: 'sweep.backfill',
} as const;

/** Due tasks go to the transitions queue; every other kind to the jobs queue. */
export const isTransitionTask = (task: Task): boolean => task.kind === SWEEP_TASKS.due;

interface DueTask extends Task {
  run: string;
  /** Epoch ms of the dispatch: boundaries up to it are due in this run. */
  now: number;
  segment: string;
  after?: string;
}

interface PolicyTask extends Task {
  run: string;
  dms: string;
  segment: string;
}

export interface DispatchReport {
  run: string;
  /** Due segments with something due (one task each). */
  dueSegments: number;
  /** Back-fill and policy-job tasks. */
  jobTasks: number;
  /** Oldest passed boundary seen (epoch ms): the sweep lag is `now - oldestDue`. */
  oldestDue?: number;
}

/** Begins a run and sends its tasks. Cheap: one index entry per due segment and one Query of the jobs. */
export async function dispatchSweep(
  { index, policies, clock, posture, newId = () => crypto.randomUUID() }: SweepDeps,
  queue: TaskQueue,
): Promise<DispatchReport> {
  const now = clock.now().getTime();
  const run = `${new Date(now).toISOString()}/${newId()}`;
  await index.beginRun(run);
  const report: DispatchReport = { run, dueSegments: 0, jobTasks: 0 };
  const due: DueTask[] = [];
  await Promise.all(
    index.dueSegments.map(async (segment) => {
      const firstDue = await index.firstDue(segment, now);
      if (firstDue === undefined) return;
      report.oldestDue = Math.min(report.oldestDue ?? firstDue, firstDue);
      due.push({ kind: SWEEP_TASKS.due, run, now, segment });
    }),
  );
  const jobs: Task[] = [{ kind: SWEEP_TASKS.backfill, run }];
  for (const job of await policies.jobs())
    for (const segment of index.dmsSegments)
      if (job.progress[segment] !== 'done') jobs.push({ kind: SWEEP_TASKS.policy, run, dms: job.dms, segment });
  if (posture) jobs.push(...(await postureTasks(posture, run)));
  await queue.send([...due, ...jobs]);
  report.dueSegments = due.length;
  report.jobTasks = jobs.length;
  return report;
}

/** The sweeper's task handlers, for a job worker (app/tasks.ts). */
export function sweepHandlers(
  { index, policies, service, posture }: SweepDeps,
  { pageSize = 100 }: { pageSize?: number } = {},
): Record<string, TaskHandler> {
  const { reassess } = service;
  const postureWalk =
    posture && reassess
      ? postureHandlers({ posture, service: { reassess }, currentRun: () => index.currentRun() }, { pageSize })
      : {};
  const superseded = async (run: string) => (await index.currentRun()) !== run;

  /** Re-evaluates one device and counts the outcome; a failure is logged and left for the next run. */
  const refresh = async (
    device: Device,
    policyCache: Map<string, DmsPolicy>,
    counts: { transitioned: number; failed: number },
    context: TaskContext,
  ) => {
    try {
      if (await service.refresh(device, policyCache)) counts.transitioned++;
    } catch (error) {
      counts.failed++;
      context.log('sweep: device failed, left for the next run', {
        deviceId: device.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  return {
    ...postureWalk,
    async [SWEEP_TASKS.due](task, context): Promise<TaskCounts> {
      const { run, now, segment, after } = task as DueTask;
      if (await superseded(run)) return { superseded: 1 };
      if (Date.now() >= context.deadline) return { incomplete: 1 };
      const page = await index.dueDevices(segment, now, pageSize, after);
      // The next page goes to another worker before this one is processed.
      if (page.next !== undefined) await context.queue.send([{ ...task, after: page.next }]);
      const counts = { due: 0, transitioned: 0, failed: 0 };
      const policyCache = new Map<string, DmsPolicy>();
      // The page's DMS policies in one read; should it fail, each device reads its own.
      await service.cachePolicies?.(page.devices, policyCache).catch((error: unknown) =>
        context.log('sweep: policies not read in one call', {
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      for (const device of page.devices) {
        // Devices not reached stay due: the next run finds them.
        if (Date.now() >= context.deadline) return { ...counts, incomplete: 1 };
        counts.due++;
        await refresh(device, policyCache, counts, context);
      }
      return counts;
    },

    async [SWEEP_TASKS.policy](task, context): Promise<TaskCounts> {
      const { run, dms, segment } = task as PolicyTask;
      const counts = { reevaluated: 0, transitioned: 0, failed: 0 };
      const job = (await policies.jobs()).find((j) => j.dms === dms);
      let position = job?.progress[segment];
      const policyCache = new Map<string, DmsPolicy>();
      while (job && position !== 'done') {
        if (await superseded(run)) return { ...counts, superseded: 1 };
        if (Date.now() >= context.deadline) {
          // The walk keeps its progress; this run continues it from another invocation.
          await context.queue.send([task]);
          return { ...counts, incomplete: 1 };
        }
        const page = await index.devicesOfDms(dms, segment, pageSize, position);
        for (const device of page.devices) {
          await refresh(device, policyCache, counts, context);
          counts.reevaluated++;
        }
        position = page.next ?? 'done';
        if ((await policies.recordJobProgress(job, segment, position, index.dmsSegments)) === 'replaced') break;
      }
      return counts;
    },

    async [SWEEP_TASKS.backfill](task, context): Promise<TaskCounts> {
      if (await superseded(task.run as string)) return { superseded: 1 };
      const backfill = await index.backfillIndexes(context.deadline, pageSize);
      if (backfill.complete) return { backfilled: backfill.indexed };
      await context.queue.send([task]);
      return { backfilled: backfill.indexed, incomplete: 1 };
    },
  };
}

export interface SweepOptions {
  /** Epoch ms after which no new device is started. */
  deadline: number;
  pageSize?: number;
  /** Transition tasks running at once (the deployed queue's maximum concurrency). */
  workers?: number;
  /** Back-fill and policy-job tasks running at once. */
  jobWorkers?: number;
  log?: (message: string, detail: Record<string, unknown>) => void;
}

export interface SweepReport {
  /** Devices read from the due index. */
  due: number;
  /** Devices whose status changed. */
  transitioned: number;
  /** Devices re-evaluated because their DMS policy changed. */
  reevaluated: number;
  failed: number;
  /** False when the deadline stopped the run with work left (the next run continues). */
  complete: boolean;
  /** Oldest passed boundary seen (epoch ms): the sweep lag is `now - oldestDue`. */
  oldestDue?: number;
  /** Devices back-filled for a newly indexed key (metadata key or the forecast). */
  backfilled: number;
}

/**
 * One whole sweep in this process: dispatch, then every task (and every task they send) on two
 * in-process queues bounded like the deployed ones. The local service's timer, tests and benches.
 */
export async function sweep(deps: SweepDeps, options: SweepOptions): Promise<SweepReport> {
  const { deadline, pageSize, workers = 4, jobWorkers = 2, log = () => undefined } = options;
  const totals: TaskCounts = {};
  const run = taskRunner(sweepHandlers(deps, { pageSize }));
  const queue = (concurrency: number) =>
    inProcessQueue({
      concurrency,
      run: async (task) => {
        if (Date.now() >= deadline) addCounts(totals, { incomplete: 1 });
        else addCounts(totals, await run(task, { deadline, queue: routed, log }));
      },
      onError: (task, error) => {
        addCounts(totals, { failed: 1 });
        log('sweep: task failed, left for the next run', {
          kind: task.kind,
          error: error instanceof Error ? error.message : String(error),
        });
      },
    });
  const transitions = queue(workers);
  const jobs = queue(jobWorkers);
  const routed = routedQueue((task) => (isTransitionTask(task) ? transitions : jobs));
  const dispatched = await dispatchSweep(deps, routed);
  await allIdle([transitions, jobs]);
  const count = (name: string) => totals[name] ?? 0;
  return {
    due: count('due'),
    transitioned: count('transitioned'),
    reevaluated: count('reevaluated'),
    failed: count('failed'),
    complete: count('incomplete') + count('failed') === 0,
    oldestDue: dispatched.oldestDue,
    backfilled: count('backfilled'),
  };
}
