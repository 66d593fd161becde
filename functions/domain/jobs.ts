/**
 * Remediation jobs (docs/api.md, Remediation jobs): one action applied to every device a selection
 * matches, in the background, at most once per device. The rules here are pure: the request, the
 * job's states and counts, and what an action makes of a device's tags and metadata.
 */
import type { Device } from './device';
import { shadowOf } from './device';
import { type FieldProblem, ValidationError } from './errors';
import { compileCriterion, type Filter, splitFilterParam } from './filters';
import { type PostureCheck, postureCheckNames } from './posture-checks';
import type { RevocationReason } from './slots';

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINISHED_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export const JOB_ACTION_TYPES = [
  'revoke-identity',
  'decommission',
  'add-tags',
  'remove-tags',
  'merge-metadata',
] as const;

export type JobAction =
  | { type: 'revoke-identity'; reason: RevocationReason }
  | { type: 'decommission' }
  | { type: 'add-tags'; tags: string[] }
  | { type: 'remove-tags'; tags: string[] }
  | { type: 'merge-metadata'; metadata: Record<string, unknown> };

/** Devices the selection matched; of them, changed (`done`), left as they were (`skipped`), refused (`failed`). */
export interface JobCounts {
  matched: number;
  done: number;
  skipped: number;
  failed: number;
}

/** Devices a job works per second unless the request says otherwise, and the most it may ask. */
export const DEFAULT_JOB_RATE = 50;
export const MAX_JOB_RATE = 1000;
/** Filters a selection may have (at least one: a job never selects the whole fleet by omission). */
export const MAX_JOB_FILTERS = 10;

export interface Job {
  id: string;
  status: JobStatus;
  dry_run: boolean;
  /** The list filters of the selection; empty when the selection is a finding. */
  filter: string[];
  /** The selection: the devices with this posture check's finding open (its sparse index, not the fleet). */
  finding?: PostureCheck;
  action: JobAction;
  rate_per_second: number;
  counts: JobCounts;
  created_at: string;
  updated_at: string;
  /** Why a FAILED job stopped (its selection could not be read). */
  error?: string;
  /** Bumped by every stored change: the walker and a cancel race on it. */
  version: number;
  /** Where the walk of the selection resumes (the list's bookmark); absent before the first page. */
  position?: string;
}

/** The job as the API shows it: without the walk's internals. */
export type JobView = Omit<Job, 'version' | 'position'>;

export const jobView = ({ version: _v, position: _p, ...view }: Job): JobView => view;

/** What became of one device: `matched` is a dry run's record. */
export type DeviceOutcome = 'done' | 'skipped' | 'failed' | 'matched';

export interface JobDeviceOutcome {
  job_id: string;
  device_id: string;
  outcome: DeviceOutcome;
  /** Why a device failed or was skipped. */
  detail?: string;
  at: string;
  /** The job version whose page wrote it: a re-run of that page counts it again, a later page never. */
  step: number;
}

/** A selection is either list filters or one posture check's open findings, never both, never neither. */
export interface NewJobInput {
  filter?: string[];
  finding?: string;
  action: JobAction;
  dry_run?: boolean;
  rate_per_second?: number;
}

/** The selection's filters, compiled as the list API compiles them; a 400 names each bad one `filter[i]`. */
export function compileJobFilters(filter: readonly string[]): Filter[] {
  const problems: FieldProblem[] = [];
  const filters: Filter[] = [];
  filter.forEach((param, i) => {
    const where = `filter[${i}]`;
    const criterion = splitFilterParam(param);
    if (!criterion) {
      problems.push({ field: where, problem: `'${param}' is not of the form field[operator]value` });
      return;
    }
    const compiled = compileCriterion(criterion, where);
    if (compiled.filter) filters.push(compiled.filter);
    if (compiled.problem) problems.push(compiled.problem);
  });
  if (problems.length > 0) throw new ValidationError('invalid job selection', problems);
  return filters;
}

/** The selection of a request, checked: 400 unless it is exactly one of `filter` and `finding`. */
export function jobSelection(input: Pick<NewJobInput, 'filter' | 'finding'>): Pick<Job, 'filter' | 'finding'> {
  const { filter, finding } = input;
  if ((filter === undefined) === (finding === undefined))
    throw new ValidationError('invalid job selection', [
      { field: 'filter', problem: 'give either filter (list filters) or finding (a posture check), not both' },
    ]);
  if (finding !== undefined) {
    if (!(postureCheckNames as readonly string[]).includes(finding))
      throw new ValidationError('invalid job selection', [
        { field: 'finding', problem: `must be one of ${postureCheckNames.join(', ')}` },
      ]);
    return { filter: [], finding: finding as PostureCheck };
  }
  if (filter!.length === 0)
    throw new ValidationError('invalid job selection', [{ field: 'filter', problem: 'must hold at least one filter' }]);
  compileJobFilters(filter!);
  return { filter: [...filter!] };
}

export function newJob(id: string, input: NewJobInput, now: Date): Job {
  const time = now.toISOString();
  return {
    id,
    status: 'PENDING',
    dry_run: input.dry_run ?? false,
    ...jobSelection(input),
    action: input.action,
    rate_per_second: input.rate_per_second ?? DEFAULT_JOB_RATE,
    counts: { matched: 0, done: 0, skipped: 0, failed: 0 },
    created_at: time,
    updated_at: time,
    version: 1,
  };
}

/**
 * A sortable, unique job id: the creation time (newest sorts last as text) and a random suffix, so
 * the job list can be read newest first from one partition.
 */
export function jobId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `job-${stamp}-${random.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`;
}

export const isFinished = (job: Pick<Job, 'status'>): boolean => FINISHED_JOB_STATUSES.has(job.status);

export function addJobCounts(a: JobCounts, b: Partial<JobCounts>): JobCounts {
  return {
    matched: a.matched + (b.matched ?? 0),
    done: a.done + (b.done ?? 0),
    skipped: a.skipped + (b.skipped ?? 0),
    failed: a.failed + (b.failed ?? 0),
  };
}

/**
 * The merge patch a tag or metadata action makes of a device's shadow, or undefined when the device
 * already is as the action wants it (skipped). Validation of the result (at most 50 tags, metadata
 * size) is the PATCH rules' (domain/patch.ts).
 */
export function shadowPatchOf(
  device: Device,
  action: JobAction,
): { tags?: string[]; metadata?: Record<string, unknown> } | undefined {
  const shadow = shadowOf(device);
  switch (action.type) {
    case 'add-tags': {
      const tags = [...new Set([...shadow.tags, ...action.tags])];
      return tags.length === shadow.tags.length ? undefined : { tags };
    }
    case 'remove-tags': {
      const drop = new Set(action.tags);
      const tags = shadow.tags.filter((t) => !drop.has(t));
      return tags.length === shadow.tags.length ? undefined : { tags };
    }
    case 'merge-metadata':
      return { metadata: action.metadata };
    default:
      return undefined;
  }
}

/** Devices a page of the walk reads: about `rate` seconds' worth (≥ 1, ≤ 100), so progress is stored often. */
/**
 * The byte budget of a job's page of devices: the walk keeps the page in memory (it is never an
 * answer), so a page of devices larger than the list API's response budget allows is still whole
 * (100 devices of up to 80 KB on average; a Lambda holds it easily).
 */
export const JOB_PAGE_BYTE_BUDGET = 8 * 1024 * 1024;

export function jobPageSize(ratePerSecond: number): number {
  return Math.max(1, Math.min(100, Math.ceil(ratePerSecond * 2)));
}
