/**
 * The composition root of the shared-findings reconciler (app/shared-findings.ts), which the counter
 * applier loads on the first stream batch that moves a public key: the device write path over the
 * process's repositories, so a shared finding opens or resolves as any device change does.
 */
import { randomUUID } from 'node:crypto';
import { deviceChanges } from '../app/device-changes';
import type { Clock, DeviceRepository, PolicyRepository, PostureRepository } from '../app/ports';
import type { RetryOptions } from '../app/retry';
import { type SharedReconciler, sharedReconciler } from '../app/shared-findings';
import { listSettings, systemClock, versionRetry } from './context';
import { deviceRepository, policyRepository, postureRepository } from './repositories';

export function createSharedFindings(
  devices: DeviceRepository,
  policies: PolicyRepository,
  posture: Pick<PostureRepository, 'keyHolders'>,
  clock: Clock,
  retry: RetryOptions = {},
): SharedReconciler {
  const changes = deviceChanges({ devices, policies, clock, newId: randomUUID, retry });
  return sharedReconciler({ index: posture, load: (id) => devices.get(id), judge: changes.judgeShared });
}

/** The reconciler over the process's repositories (the installed services' locally). */
export function sharedFindings(): SharedReconciler {
  const retry = versionRetry(listSettings().config);
  return createSharedFindings(deviceRepository(), policyRepository(), postureRepository(), systemClock, retry);
}
