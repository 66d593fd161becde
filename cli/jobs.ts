/**
 * `device-manager jobs start|watch|cancel`: remediation jobs over the API (docs/api.md, Remediation
 * jobs). `watch` polls the job and shows its progress (a bar on a terminal, lines otherwise) until it
 * finishes; the total is the statistics of the selection when they can be read, else unknown.
 */
import { UsageError } from './errors';
import { filterQuery, refused } from './export';
import type { ApiClient } from './http-client';
import type { Progress } from './progress';

export interface JobView {
  id: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  dry_run: boolean;
  filter: string[];
  finding?: string;
  counts: { matched: number; done: number; skipped: number; failed: number };
  error?: string;
}

export interface StartOptions {
  filter: string[];
  /** Instead of `filter`: the devices with this posture check open. */
  finding?: string;
  action: string;
  reason?: string;
  tag: string[];
  metadata?: string;
  dryRun?: boolean;
  rate?: number;
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** The request body of `jobs start`, or a UsageError naming what is missing. */
export function jobRequest(options: StartOptions): Record<string, unknown> {
  if ((options.filter.length === 0) === (options.finding === undefined))
    throw new UsageError('jobs start: give either --finding <check> or at least one --filter field[op]value');
  const action = ((): Record<string, unknown> => {
    switch (options.action) {
      case 'revoke-identity':
        return { type: options.action, reason: options.reason ?? 'Unspecified' };
      case 'decommission':
        return { type: options.action };
      case 'add-tags':
      case 'remove-tags':
        if (options.tag.length === 0) throw new UsageError(`jobs start: --action ${options.action} needs --tag`);
        return { type: options.action, tags: options.tag };
      case 'merge-metadata': {
        if (!options.metadata) throw new UsageError('jobs start: --action merge-metadata needs --metadata <json>');
        try {
          return { type: options.action, metadata: JSON.parse(options.metadata) as unknown };
        } catch {
          throw new UsageError('jobs start: --metadata is not JSON');
        }
      }
      default:
        throw new UsageError(`jobs start: unknown --action ${options.action}`);
    }
  })();
  return {
    ...(options.finding === undefined ? { filter: options.filter } : { finding: options.finding }),
    action,
    ...(options.dryRun ? { dry_run: true } : {}),
    ...(options.rate !== undefined ? { rate_per_second: options.rate } : {}),
  };
}

export async function startJob(client: ApiClient, options: StartOptions): Promise<JobView> {
  const reply = await client.send('POST', '/v2/jobs', { body: jobRequest(options) });
  if (reply.status !== 202) throw refused('jobs start', reply);
  return reply.body as JobView;
}

export async function getJob(client: ApiClient, id: string): Promise<JobView> {
  const reply = await client.send('GET', `/v2/jobs/${encodeURIComponent(id)}`);
  if (reply.status !== 200) throw refused('jobs watch', reply);
  return reply.body as JobView;
}

export async function cancelJob(client: ApiClient, id: string): Promise<JobView> {
  const reply = await client.send('POST', `/v2/jobs/${encodeURIComponent(id)}/cancel`);
  if (reply.status !== 200) throw refused('jobs cancel', reply);
  return reply.body as JobView;
}

/**
 * How many devices the selection holds now, from the statistics (undefined when they cannot tell:
 * a status filter, a query too broad): the bar's 100%.
 */
export async function selectionSize(
  client: ApiClient,
  filter: readonly string[],
  finding?: string,
): Promise<number | undefined> {
  if (finding !== undefined) {
    // The check's open count (GET /v2/findings): the devices its index holds now.
    const reply = await client.send('GET', '/v2/findings');
    const checks = reply.status === 200 ? (reply.body as { checks: { check: string; open: number }[] }).checks : [];
    return checks.find((c) => c.check === finding)?.open;
  }
  if (filter.some((f) => f.startsWith('status['))) return undefined;
  const reply = await client.send('GET', `/v2/stats/devices${filterQuery([...filter])}`);
  return reply.status === 200 ? (reply.body as { total: number }).total : undefined;
}

export const jobLine = (job: JobView): string =>
  `job ${job.id} ${job.status}${job.dry_run ? ' (dry run)' : ''}: matched ${job.counts.matched} ` +
  `done ${job.counts.done} skipped ${job.counts.skipped} failed ${job.counts.failed}` +
  `${job.error ? ` (${job.error})` : ''}`;

/** Polls the job every `intervalMs` until it finishes, feeding `progress`; resolves with the last view. */
export async function watchJob({
  client,
  id,
  progress,
  intervalMs,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
}: {
  client: ApiClient;
  id: string;
  progress: Progress;
  intervalMs: number;
  sleep?: (ms: number) => Promise<unknown>;
}): Promise<JobView> {
  let job = await getJob(client, id);
  const total = await selectionSize(client, job.filter, job.finding).catch(() => undefined);
  try {
    for (;;) {
      const { matched, done, skipped, failed } = job.counts;
      progress.update({
        done: matched,
        ...(total ? { fraction: Math.min(1, matched / total) } : {}),
        detail: `${job.status} done ${done} skipped ${skipped} failed ${failed}`,
      });
      if (FINISHED.has(job.status)) return job;
      await sleep(intervalMs);
      job = await getJob(client, id);
    }
  } finally {
    progress.stop();
  }
}

/** 0: SUCCEEDED with no device failed; 1 otherwise. */
export const jobExitCode = (job: JobView): number => (job.status === 'SUCCEEDED' && job.counts.failed === 0 ? 0 : 1);
