/**
 * Fleet posture use cases (docs/api.md, Fleet posture): the posture policy (If-Match like DMS
 * policies), the open findings per check and the devices of a check, and the background
 * re-evaluation of the fleet when the policy changes (also the first assessment of devices bound
 * before posture existed: until it is done, findings answer 409 INDEX_NOT_READY).
 */
import { parseCertificate } from '../domain/certificate';
import { issuerCertificateOf } from '../domain/crypto-profile';
import type { Device } from '../domain/device';
import { storedFindingsOf } from '../domain/findings';
import { recordedHoldingsOf } from '../domain/shared-holdings';
import {
  ContentionError,
  IndexNotReadyError,
  PreconditionFailedError,
  ValidationError,
  VersionConflictError,
} from '../domain/errors';
import { type PostureCheck, postureCheckNames } from '../domain/posture-checks';
import type { PosturePolicy } from '../domain/posture';
import { DEFAULT_POSTURE_POLICY } from '../domain/posture-rules';
import type { FindingRow, Page, PostureRepository, StoredPosturePolicy, Task } from './ports';
import type { TaskCounts, TaskHandler } from './tasks';

export interface PostureServiceDeps {
  posture: PostureRepository;
}

/** The policy as served: its fields and its version (the ETag). */
export type PosturePolicyView = PosturePolicy & { version: number };

const view = ({ policy, version }: StoredPosturePolicy): PosturePolicyView => ({ ...policy, version });

const notReady = () =>
  new IndexNotReadyError(
    'findings',
    'findings are being assessed for every device (back-fill in progress); try again later',
  );

/** The policy with its issuer certificates read (400 for one that is not a certificate), as normalised PEM. */
function withIssuerCertificates(policy: PosturePolicy): PosturePolicy {
  if (!policy.issuer_certificates) return policy;
  const pems = policy.issuer_certificates.map((pem, i) => {
    const parsed = parseCertificate(pem, `issuer_certificates[${i}]`);
    issuerCertificateOf(parsed);
    return parsed.pem;
  });
  return { ...policy, issuer_certificates: pems };
}

export type PostureService = ReturnType<typeof postureService>;

export function postureService({ posture }: PostureServiceDeps) {
  const current = async () => (await posture.get()) ?? { policy: DEFAULT_POSTURE_POLICY, version: 0 };

  async function assertReady(): Promise<void> {
    if (!(await posture.ready())) throw notReady();
  }

  return {
    async getPolicy(): Promise<PosturePolicyView> {
      return view(await current());
    },

    /** Replaces the policy; the fleet is judged again in the background (the sweeper's posture job). */
    async putPolicy(given: PosturePolicy, ifMatch?: number): Promise<PosturePolicyView> {
      const policy = withIssuerCertificates(given);
      for (let attempt = 0; attempt < 5; attempt++) {
        const stored = await current();
        if (ifMatch !== undefined && ifMatch !== stored.version)
          throw new PreconditionFailedError(ifMatch, stored.version);
        const after = { policy, version: stored.version + 1 };
        try {
          await posture.save(stored.version, after);
          return view(after);
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
          if (ifMatch !== undefined) throw new PreconditionFailedError(ifMatch, stored.version + 1);
        }
      }
      throw new ContentionError('the posture policy is being changed concurrently; try again');
    },

    async openCounts(): Promise<{ checks: { check: PostureCheck; open: number }[]; consistent_as_of: string }> {
      await assertReady();
      const { counts, consistent_as_of } = await posture.openCounts();
      return { checks: postureCheckNames.map((check) => ({ check, open: counts[check] })), consistent_as_of };
    },

    async findings(check: string, pageSize: number, bookmark?: string): Promise<Page<FindingRow>> {
      if (!(postureCheckNames as readonly string[]).includes(check))
        throw new ValidationError('unknown posture check', [
          { field: 'check', problem: `must be one of ${postureCheckNames.join(', ')}` },
        ]);
      await assertReady();
      return posture.findings(check as PostureCheck, pageSize, bookmark);
    },
  };
}

/** The task kind of the posture re-evaluation: one walk per segment, on the jobs queue. */
export const POSTURE_TASK = 'posture.reassess';

interface PostureTask extends Task {
  run: string;
  segment: string;
}

export interface PostureWalkDeps {
  posture: PostureRepository;
  service: { reassess(device: Device): Promise<'changed' | 'stamped'> };
  /** The current sweep run: a task of an older run stops (app/sweep.ts). */
  currentRun(): Promise<string | undefined>;
}

/** The tasks a sweep run sends for the posture job: one per unfinished segment (none without a job). */
export async function postureTasks(posture: PostureRepository, run: string): Promise<Task[]> {
  const job = await posture.job();
  if (!job) return [];
  return posture.segments
    .filter((segment) => job.progress[segment] !== 'done')
    .map((segment): PostureTask => ({ kind: POSTURE_TASK, run, segment }));
}

/** The walk of one segment: every device not yet judged with the job's policy version is judged again. */
export function postureHandlers(
  { posture, service, currentRun }: PostureWalkDeps,
  { pageSize = 100 }: { pageSize?: number } = {},
): Record<string, TaskHandler> {
  return {
    async [POSTURE_TASK](task, context): Promise<TaskCounts> {
      const { run, segment } = task as PostureTask;
      const counts = { reassessed: 0, findingsChanged: 0, failed: 0 };
      const job = await posture.job();
      let position = job?.progress[segment];
      while (job && position !== 'done') {
        if ((await currentRun()) !== run) return { ...counts, superseded: 1 };
        if (Date.now() >= context.deadline) {
          // The walk keeps its progress; this run continues it from another invocation.
          await context.queue.send([task]);
          return { ...counts, incomplete: 1 };
        }
        const page = await posture.devicesPage(segment, pageSize, position);
        for (const device of page.devices) {
          // Judged with this version (or a newer one) already, by a change or an earlier pass of the walk,
          // and counted under its fingerprints (a device assessed before the shared checks is not).
          const judged = (storedFindingsOf(device)?.policy_version ?? -1) >= job.policyVersion;
          if (judged && recordedHoldingsOf(device) !== undefined) continue;
          try {
            if ((await service.reassess(device)) === 'changed') counts.findingsChanged++;
            counts.reassessed++;
          } catch (error) {
            // The segment's position does not pass a device that failed: the next run walks it again.
            counts.failed++;
            context.log('posture: device failed, left for the next run', {
              deviceId: device.id,
              error: error instanceof Error ? error.message : String(error),
            });
            return counts;
          }
        }
        position = page.next ?? 'done';
        if ((await posture.recordJobProgress(job, segment, position)) === 'replaced') break;
      }
      return counts;
    },
  };
}
