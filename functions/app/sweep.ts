/**
 * The sweeper: persists time-driven status transitions by reading only the devices that are due
 * (the sparse, sharded due index), and re-evaluates the devices of DMSs whose policy changed.
 * Every device is handled by its own conditional write, so a crash leaves nothing half done and the
 * next run finishes the rest; racing runs cannot record a transition twice.
 */
import type { Device } from '../domain/device';
import type { DmsPolicy } from '../domain/policy';
import type { DeviceService } from './devices';
import type { Clock, DeviceRepository, PolicyJob, PolicyRepository } from './ports';

export interface SweepDeps {
  devices: DeviceRepository;
  policies: PolicyRepository;
  service: Pick<DeviceService, 'refresh'>;
  clock: Clock;
}

export interface SweepOptions {
  /** Epoch ms after which no new device is started. */
  deadline: number;
  pageSize?: number;
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

export async function sweep(
  { devices, policies, service, clock }: SweepDeps,
  { deadline, pageSize = 100, log = () => undefined }: SweepOptions,
): Promise<SweepReport> {
  const now = clock.now().getTime();
  const report: SweepReport = { due: 0, transitioned: 0, reevaluated: 0, failed: 0, complete: true, backfilled: 0 };
  const policyCache = new Map<string, DmsPolicy>();
  const outOfTime = () => {
    if (Date.now() < deadline) return false;
    report.complete = false;
    return true;
  };

  const refresh = async (device: Device) => {
    try {
      if (await service.refresh(device, policyCache)) report.transitioned++;
    } catch (error) {
      report.failed++;
      log('sweep: device failed, left for the next run', {
        deviceId: device.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  // Newly indexed keys first (usually nothing to do: one Query of the index states).
  const backfill = await devices.backfillIndexes(deadline, pageSize);
  report.backfilled = backfill.indexed;
  if (!backfill.complete) report.complete = false;

  // Policy changes next: their devices may have crossed boundaries under the new windows.
  for (const job of await policies.jobs()) {
    if (outOfTime()) break;
    await runJob(job);
  }

  async function runJob(job: PolicyJob) {
    const progress = { ...job.progress };
    for (let shard = 0; shard < devices.listShards; shard++) {
      let position = progress[shard];
      while (position !== 'done') {
        if (outOfTime()) return;
        const page = await devices.devicesOfDms(job.dms, shard, pageSize, position);
        for (const device of page.devices) {
          await refresh(device);
          report.reevaluated++;
        }
        position = page.next ?? 'done';
        progress[shard] = position;
        const done = Array.from({ length: devices.listShards }, (_, s) => progress[s]).every((p) => p === 'done');
        await policies.updateJob({ ...job, progress }, done);
      }
    }
  }

  await Promise.all(
    Array.from({ length: devices.dueShards }, async (_, shard) => {
      let after: string | undefined;
      do {
        if (outOfTime()) return;
        const page = await devices.dueDevices(shard, now, pageSize, after);
        if (after === undefined && page.firstDue !== undefined)
          report.oldestDue = Math.min(report.oldestDue ?? page.firstDue, page.firstDue);
        for (const device of page.devices) {
          if (outOfTime()) return;
          report.due++;
          await refresh(device);
        }
        after = page.next;
      } while (after !== undefined);
    }),
  );
  if (report.failed > 0) report.complete = false;
  return report;
}
