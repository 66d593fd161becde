/**
 * Remediation jobs (docs/api.md, Remediation jobs): one action applied to every device a selection of
 * list filters matches, in the background on the job worker (app/tasks.ts), at a bounded rate.
 *
 * A job walks its selection page by page (the list API, by id). Each device's outcome is written in
 * the device's own transaction, only if the job has none for it yet, so a device is changed at most
 * once per job however often a page is delivered or re-run. The job's counts and position are stored
 * after each page, conditioned on the job's version: a crashed page is re-run from the stored
 * position (its outcomes, written by the same job version, are counted again, others never), and of
 * two walkers of the same job (a redelivered task) one loses at its first save and stops. A cancel
 * moves the version too, so the walker stops at the end of its page.
 */
import type { Device } from '../domain/device';
import {
  ContentionError,
  DomainError,
  IndexNotReadyError,
  JobFinishedError,
  JobNotFoundError,
  JobOutcomeExistsError,
  ValidationError,
  VersionConflictError,
} from '../domain/errors';
import {
  addJobCounts,
  compileJobFilters,
  type DeviceOutcome,
  jobSelection,
  isFinished,
  type Job,
  type JobCounts,
  type JobDeviceOutcome,
  jobId,
  JOB_PAGE_BYTE_BUDGET,
  jobPageSize,
  type JobStatus,
  type JobView,
  jobView,
  newJob,
  type NewJobInput,
  shadowPatchOf,
} from '../domain/jobs';
import { jobCreated, jobStatusUpdated } from '../domain/outbox';
import { IDENTITY_SLOT, slotOf } from '../domain/slots';
import type { DeviceActions } from './device-actions';
import type { Change, DeviceChanges } from './device-changes';
import type { Clock, DeviceQueries, IdGenerator, JobStore, Page, PostureRepository, Task, TaskQueue } from './ports';
import type { TaskCounts, TaskHandler } from './tasks';

/** The task kind of a job's walk: `{kind, job}`. */
export const JOB_TASK = 'job.run';

export interface JobDeps {
  jobs: JobStore;
  devices: Pick<DeviceQueries, 'list'>;
  /** The findings a `finding` selection walks (absent: such a job is refused, 409 INDEX_NOT_READY). */
  findings?: Pick<PostureRepository, 'ready' | 'findingDevices'>;
  changes: Pick<DeviceChanges, 'mutate'>;
  actions: DeviceActions;
  /** Where a new job's first task goes (resolved on use: only creating a job needs it). */
  queue: () => TaskQueue;
  clock: Clock;
  newId: IdGenerator;
  /**
   * Forgets cached DMS and posture policies: the walk reads them once per task run (a retried device
   * reads them again; composition/jobs.ts says why a run may keep them).
   */
  forgetPolicies?: () => void;
  /** Waits between devices to keep the job's rate (a test passes its own). */
  sleep?: (ms: number) => Promise<void>;
  /** Devices of a page handled at once (each still waits for its turn of the rate). */
  concurrency?: number;
}

/**
 * An unfinished job that has not stored progress for this long has lost its walker: longer than a
 * worker's timeout (5 min) plus a wait in the jobs queue. A walker that was only slow loses its next
 * save to the resumed one (or wins it), so a resume never applies a device twice.
 */
export const JOB_STALL_MS = 10 * 60_000;

/** Attempts of a cancel that keeps losing the race to the walker's page saves. */
const CANCEL_ATTEMPTS = 10;

const MERGE_PATCH = 'application/merge-patch+json';

export type JobService = ReturnType<typeof jobService>;

export function jobService(deps: JobDeps) {
  const { jobs, clock, newId } = deps;

  async function load(id: string): Promise<Job> {
    const job = await jobs.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  return {
    /** Stores a PENDING job and sends its first task; 400 for a bad selection. */
    async create(input: NewJobInput): Promise<JobView> {
      const { finding } = jobSelection(input);
      // Until every device is assessed, a finding's index would miss devices: refused, as its list is.
      if (finding !== undefined && !(await deps.findings?.ready()))
        throw new IndexNotReadyError('findings', 'findings are being assessed for every device; try again later');
      const now = clock.now();
      const job = newJob(jobId(now, newId()), input, now);
      await jobs.create(job, [jobCreated(newId(), jobView(job), job.created_at)]);
      // Should the send fail, the job stays PENDING and is resumed as a stalled job (resumeStalled).
      await deps.queue().send([jobTask(job.id)]);
      return jobView(job);
    },

    async get(id: string): Promise<JobView> {
      return jobView(await load(id));
    },

    async list(pageSize: number, bookmark?: string): Promise<Page<JobView>> {
      const page = await jobs.list(pageSize, bookmark);
      return { list: page.list.map(jobView), next: page.next };
    },

    async devices(id: string, pageSize: number, bookmark?: string): Promise<Page<JobDeviceOutcome>> {
      await load(id);
      return jobs.outcomes(id, pageSize, bookmark);
    },

    /** Cancels a PENDING or RUNNING job (a CANCELLED one is returned as it is); 409 for a finished one. */
    async cancel(id: string): Promise<JobView> {
      for (let attempt = 0; attempt < CANCEL_ATTEMPTS; attempt++) {
        const job = await load(id);
        if (job.status === 'CANCELLED') return jobView(job);
        if (isFinished(job)) throw new JobFinishedError(id, job.status);
        const after = moved(job, { status: 'CANCELLED' }, clock.now());
        if (await jobs.save(job, after, [statusEvent(job.status, after)])) return jobView(after);
      }
      throw new ContentionError(`job ${id} is being updated concurrently; try again`);
    },

    /**
     * Sends a task for every unfinished job that has not moved for `staleMs` (its task was lost with a
     * crashed worker, or never sent). A walker still alive loses its next save to the new one, or wins it.
     */
    async resumeStalled(queue: TaskQueue, staleMs: number): Promise<number> {
      const now = clock.now().getTime();
      const tasks: Task[] = [];
      for (const id of await jobs.unfinished()) {
        const job = await jobs.get(id);
        if (job && !isFinished(job) && now - Date.parse(job.updated_at) >= staleMs) tasks.push(jobTask(id));
      }
      if (tasks.length > 0) await queue.send(tasks);
      return tasks.length;
    },

    /** The task handlers of the job worker. */
    handlers(): Record<string, TaskHandler> {
      return { [JOB_TASK]: (task, context) => runJob(deps, task.job as string, task, context) };
    },
  };

  function statusEvent(previous: JobStatus, after: Job) {
    return jobStatusUpdated(newId(), previous, jobView(after), after.updated_at);
  }

  /** One task of a job's walk: pages until done, cancelled, overtaken or out of time (then it sends itself again). */
  async function runJob(
    deps: JobDeps,
    id: string,
    task: Task,
    context: Parameters<TaskHandler>[1],
  ): Promise<TaskCounts> {
    let job = await jobs.get(id);
    if (!job || isFinished(job)) return { jobIdle: 1 };
    if (job.status === 'PENDING') {
      const running = moved(job, { status: 'RUNNING' }, clock.now());
      if (!(await jobs.save(job, running, [statusEvent('PENDING', running)]))) return { jobOvertaken: 1 };
      job = running;
    }
    // The policies are read again once per run, not per page: a long job reads each once per invocation.
    deps.forgetPolicies?.();
    const select = selection(deps, job);
    const pace = pacer(job.rate_per_second, deps.sleep);
    const totals: TaskCounts = { jobDevices: 0 };
    for (;;) {
      if (Date.now() >= context.deadline) {
        // The job keeps its position: the walk continues from another invocation.
        await context.queue.send([task]);
        return { ...totals, incomplete: 1 };
      }
      let page: Page<Device>;
      try {
        page = await select(jobPageSize(job.rate_per_second), job.position);
      } catch (error) {
        // The selection cannot be read (a bookmark the key no longer signs, say): the job fails.
        if (!(error instanceof DomainError) || error instanceof ContentionError) throw error;
        const failed = moved(job, { status: 'FAILED', error: error.message }, clock.now());
        await jobs.save(job, failed, [statusEvent(job.status, failed)]);
        return { ...totals, jobFailed: 1 };
      }
      const counts = await applyPage(deps, job, page.list, pace);
      totals.jobDevices = (totals.jobDevices ?? 0) + counts.matched;
      const done = page.next === '';
      const after = moved(
        job,
        { status: done ? 'SUCCEEDED' : 'RUNNING', counts: addJobCounts(job.counts, counts), position: page.next },
        clock.now(),
      );
      if (done) delete after.position;
      if (!(await jobs.save(job, after, done ? [statusEvent(job.status, after)] : []))) {
        // Cancelled, or another walker of this job went first: it owns the walk now.
        return { ...totals, jobOvertaken: 1 };
      }
      job = after;
      if (done) return { ...totals, jobSucceeded: 1 };
    }
  }
}

const jobTask = (id: string): Task => ({ kind: JOB_TASK, job: id });

/** Reads one page of a job's selection, by device id: its list filters, or its finding's own index. */
function selection(deps: JobDeps, job: Job): (pageSize: number, bookmark?: string) => Promise<Page<Device>> {
  const { finding } = job;
  if (finding !== undefined) {
    const findings = deps.findings;
    if (!findings) throw new Error('a finding selection needs the findings (JobDeps.findings)');
    return (pageSize, bookmark) => findings.findingDevices(finding, pageSize, bookmark);
  }
  const filters = compileJobFilters(job.filter);
  return (pageSize, bookmark) =>
    deps.devices.list({ filters, sortBy: 'id', sortMode: 'asc', pageSize, bookmark, byteBudget: JOB_PAGE_BYTE_BUDGET });
}

function moved(job: Job, change: Partial<Job>, now: Date): Job {
  return { ...job, ...change, version: job.version + 1, updated_at: now.toISOString() };
}

/** Resolves when the next device may start: at most `rate` starts per second. */
function pacer(rate: number, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))) {
  const gap = 1000 / rate;
  let next = Date.now();
  return async () => {
    const now = Date.now();
    // No credit for idle time beyond one gap: a pause never turns into a burst.
    next = Math.max(next, now - gap);
    const wait = next - now;
    next += gap;
    if (wait > 0) await sleep(wait);
  };
}

/** The change the job's action makes to a device; undefined when the device already is as the action wants it. */
function actionChange(actions: DeviceActions, job: Job): Change {
  const { action } = job;
  switch (action.type) {
    case 'revoke-identity': {
      const revoke = actions.revoke(IDENTITY_SLOT, action.reason);
      return (current, now) => (slotOf(current, IDENTITY_SLOT) ? revoke(current, now) : undefined);
    }
    case 'decommission':
      return actions.decommission();
    default:
      return (current, now) => {
        const patch = shadowPatchOf(current, action);
        return patch ? actions.patch(MERGE_PATCH, patch)(current, now) : undefined;
      };
  }
}

/** Applies the job's action to a page of devices, at the job's rate; the counts of what the page did. */
async function applyPage(
  deps: JobDeps,
  job: Job,
  devices: readonly Device[],
  pace: () => Promise<void>,
): Promise<JobCounts> {
  const counts: JobCounts = { matched: 0, done: 0, skipped: 0, failed: 0 };
  const change = actionChange(deps.actions, job);
  const count = (outcome: DeviceOutcome) => {
    counts.matched++;
    if (outcome !== 'matched') counts[outcome]++;
  };
  const at = deps.clock.now().toISOString();
  const base = (device: Device) => ({ job_id: job.id, device_id: device.id, step: job.version, at });

  /** An outcome written before: counted only if this job version's page wrote it (a re-run of this page). */
  const countPrior = async (device: Device) => {
    const prior = await deps.jobs.getOutcome(job.id, device.id);
    if (prior && prior.step === job.version) count(prior.outcome);
  };
  const record = async (device: Device, outcome: DeviceOutcome, detail?: string) => {
    if (await deps.jobs.putOutcome({ ...base(device), outcome, ...(detail ? { detail } : {}) })) count(outcome);
    else await countPrior(device);
  };

  const one = async (device: Device) => {
    if (job.dry_run) return record(device, 'matched');
    let attempts = 0;
    try {
      const { changed } = await deps.changes.mutate(
        device.id,
        undefined,
        async (current, now) => {
          // A retry (the device or its DMS policy moved) reads the policy again.
          if (attempts++ > 0) deps.forgetPolicies?.();
          const mutation = await change(current, now);
          return mutation && { ...mutation, jobOutcome: { ...base(device), outcome: 'done' } };
        },
        device,
      );
      if (changed) count('done');
      else await record(device, 'skipped', 'nothing to change');
    } catch (error) {
      if (error instanceof JobOutcomeExistsError) return countPrior(device);
      // A refusal (a device gone, a state the action cannot apply to, a result over a limit) is the
      // device's outcome; contention and infrastructure errors fail the task, which is delivered again.
      if (!(error instanceof DomainError) || error instanceof VersionConflictError || error instanceof ContentionError)
        throw error;
      const details = error instanceof ValidationError ? error.details.map((d) => `${d.field} ${d.problem}`) : [];
      await record(device, 'failed', [error.message, ...details].join('; '));
    }
  };

  const queue = [...devices];
  const lanes = Math.max(1, Math.min(deps.concurrency ?? 4, queue.length));
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let device = queue.shift(); device; device = queue.shift()) {
        await pace();
        await one(device);
      }
    }),
  );
  return counts;
}
