/** The remediation jobs (app/jobs.ts): process-wide, for the job routes and the job worker. */
import { randomUUID } from 'node:crypto';
import { deviceActions } from '../app/device-actions';
import { deviceChanges } from '../app/device-changes';
import { jobService, type JobService } from '../app/jobs';
import type { DeviceRepository, PolicyRepository, PostureRepository, TaskQueue } from '../app/ports';
import { jobStore } from '../adapters/dynamodb/job-store';
import type { DmsPolicy } from '../domain/policy';
import { metricsTelemetry, processWide, type TableContext } from './context';
import { deviceRepository, policyRepository, postureRepository } from './repositories';
import { taskQueues } from './task-composition';

/**
 * The DMS and posture policies as a job's walk reads them: each once per task run (app/jobs.ts forgets
 * them when a run starts), not once per device or page. A copy older than a policy change is harmless, as
 * it was per page: on a device the new policy's walk has already judged, the change is refused by that
 * policy's fence (its version on the device item) and the retry forgets the cache and reads the policy
 * again; on a device the walk has not reached, the walk judges it again. A run ends at the worker's
 * deadline, so no copy outlives one invocation.
 */
export function policyCaches(
  policies: Pick<PolicyRepository, 'get'>,
  posture?: Pick<PostureRepository, 'get' | 'stamp'>,
) {
  const cache = new Map<string, Promise<DmsPolicy | undefined>>();
  let postureRead: ReturnType<PostureRepository['get']> | undefined;
  return {
    policies: {
      get(dms: string) {
        let policy = cache.get(dms);
        if (!policy) {
          policy = policies.get(dms);
          policy.catch(() => cache.delete(dms));
          cache.set(dms, policy);
        }
        return policy;
      },
    } satisfies Pick<PolicyRepository, 'get'>,
    posture: posture && {
      get() {
        if (!postureRead) {
          postureRead = posture.get();
          postureRead.catch(() => (postureRead = undefined));
        }
        return postureRead;
      },
      stamp: (...args: Parameters<PostureRepository['stamp']>) => posture.stamp(...args),
    },
    forget() {
      cache.clear();
      postureRead = undefined;
    },
  };
}

export function createJobs(
  { client, config, clock, bookmarks, retry }: TableContext,
  repository: DeviceRepository,
  policies: PolicyRepository,
  posture: PostureRepository,
  queue: () => TaskQueue = taskQueues,
): JobService {
  const cached = policyCaches(policies, posture);
  const newId = randomUUID;
  const changes = deviceChanges({
    devices: repository,
    policies: cached.policies,
    clock,
    newId,
    defaults: config.renewalDefaults,
    telemetry: metricsTelemetry,
    retry,
    deviceSnapshots: config.lamassuEvents,
    // A job's change keeps the device's findings current, as any change does (a revoke resolves weak-key).
    posture: cached.posture,
    iotSync: config.iotSyncEnabled,
  });
  return jobService({
    jobs: jobStore({ client, tableName: config.tableName, bookmarks, jobRetentionDays: config.jobRetentionDays }),
    devices: repository,
    findings: posture,
    changes,
    actions: deviceActions(changes, newId),
    queue,
    clock,
    newId,
    forgetPolicies: cached.forget,
  });
}

export const jobs = processWide(
  (s) => s.jobs,
  (context) => createJobs(context, deviceRepository(), policyRepository(), postureRepository()),
);
