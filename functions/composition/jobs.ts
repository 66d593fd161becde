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

export function createJobs(
  { client, config, clock, bookmarks, retry }: TableContext,
  repository: DeviceRepository,
  policies: PolicyRepository,
  posture: PostureRepository,
  queue: () => TaskQueue = taskQueues,
): JobService {
  // A walk reads each DMS policy once per page, not once per device (the policy fence still refuses
  // a change computed with a policy that moved, and the retry reads it again).
  const cache = new Map<string, Promise<DmsPolicy | undefined>>();
  const cached: Pick<PolicyRepository, 'get'> = {
    get(dms) {
      let policy = cache.get(dms);
      if (!policy) {
        policy = policies.get(dms);
        policy.catch(() => cache.delete(dms));
        cache.set(dms, policy);
      }
      return policy;
    },
  };
  // The posture policy likewise, once per page (the posture fence refuses a change judged with an older
  // one; its retry forgets the cache and reads it again).
  let postureRead: ReturnType<PostureRepository['get']> | undefined;
  const cachedPosture: Pick<PostureRepository, 'get' | 'stamp'> = {
    get() {
      if (!postureRead) {
        postureRead = posture.get();
        postureRead.catch(() => (postureRead = undefined));
      }
      return postureRead;
    },
    stamp: (device, version) => posture.stamp(device, version),
  };
  const newId = randomUUID;
  const changes = deviceChanges({
    devices: repository,
    policies: cached,
    clock,
    newId,
    defaults: config.renewalDefaults,
    telemetry: metricsTelemetry,
    retry,
    deviceSnapshots: config.lamassuEvents,
    // A job's change keeps the device's findings current, as any change does (a revoke resolves weak-key).
    posture: cachedPosture,
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
    forgetPolicies: () => {
      cache.clear();
      postureRead = undefined;
    },
  });
}

export const jobs = processWide(
  (s) => s.jobs,
  (context) => createJobs(context, deviceRepository(), policyRepository(), postureRepository()),
);
