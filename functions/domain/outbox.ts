/**
 * Lifecycle events bound for the bus (docs/api.md, Events on EventBridge). They are written to the outbox in the same
 * transaction as the change they describe; the publisher turns them into CloudEvents.
 */
import type { Device, DeviceStatus } from './device';
import { shadowOf } from './device';
import type { GroupView } from './groups';
import type { JobStatus, JobView } from './jobs';

export type OutboxEventType =
  | 'device.create'
  | 'device.update'
  | 'device.status.update'
  | 'device.identity.update'
  | 'device.slot.update'
  | 'device.decommission'
  | 'device.delete'
  | 'device.finding.open'
  | 'device.finding.resolve'
  | 'device-group.create'
  | 'device-group.update'
  | 'device-group.delete'
  | 'dms.update'
  | 'job.create'
  | 'job.status.update';

export interface OutboxEvent {
  /** Stable id: the CloudEvents `id`, kept across redeliveries. */
  id: string;
  type: OutboxEventType;
  subject: string;
  time: string;
  data: unknown;
  /**
   * The whole device before and after the change, recorded only when Lamassu-typed events are on
   * (setting lamassuEvents): Lamassu's consumers expect full devices in status and identity events.
   */
  devices?: { previous: Device | null; updated: Device | null };
  /**
   * On an identity revocation, the certificate the CA may be asked to revoke (`ca.certificate.revoke.request`
   * with lamassuEvents): set only for a certificate the service can tie to the device (domain/slots.ts
   * `caRevocable`). Not published in our own events.
   */
  caRevocation?: { serial_number: string };
}

export const deviceSubject = (id: string) => `device/${id}`;

export function deviceCreated(id: string, device: Device, time: string): OutboxEvent {
  return { id, type: 'device.create', subject: deviceSubject(device.id), time, data: device };
}

export function deviceUpdated(id: string, before: Device, after: Device, time: string): OutboxEvent {
  return {
    id,
    type: 'device.update',
    subject: deviceSubject(after.id),
    time,
    data: { previous: shadowOf(before), updated: shadowOf(after) },
  };
}

/** `device.status.update`; data carries the device id and both statuses. */
export function statusUpdated(
  id: string,
  deviceId: string,
  previous: DeviceStatus,
  updated: DeviceStatus,
  time: string,
): OutboxEvent {
  return {
    id,
    type: 'device.status.update',
    subject: deviceSubject(deviceId),
    time,
    data: { previous: { status: previous }, updated: { status: updated } },
  };
}

export function deviceDecommissioned(id: string, before: Device, after: Device, time: string): OutboxEvent {
  return {
    id,
    type: 'device.decommission',
    subject: deviceSubject(after.id),
    time,
    data: { previous: before, updated: after },
  };
}

/** `device.delete` (hard delete of a decommissioned device); data is the device as it was. */
export function deviceDeleted(id: string, device: Device, time: string): OutboxEvent {
  return { id, type: 'device.delete', subject: deviceSubject(device.id), time, data: device };
}

const groupSubject = (id: string) => `device-group/${id}`;

/** `device-group.create`; data is the group as served (inherited_criteria included). */
export function groupCreated(id: string, group: GroupView, time: string): OutboxEvent {
  return { id, type: 'device-group.create', subject: groupSubject(group.id), time, data: group };
}

/** `device-group.update`; data is `{previous, updated}`, both as served. */
export function groupUpdated(id: string, previous: GroupView, updated: GroupView, time: string): OutboxEvent {
  return { id, type: 'device-group.update', subject: groupSubject(updated.id), time, data: { previous, updated } };
}

/** `device-group.delete`; data is the group as it was (one event per group a cascade deletes). */
export function groupDeleted(id: string, group: GroupView, time: string): OutboxEvent {
  return { id, type: 'device-group.delete', subject: groupSubject(group.id), time, data: group };
}

export const jobSubject = (id: string) => `job/${id}`;

/** `job.create`: the job as the API shows it (without its walk's position). */
export function jobCreated(id: string, job: JobView, time: string): OutboxEvent {
  return { id, type: 'job.create', subject: jobSubject(job.id), time, data: job };
}

/** `job.status.update`: both statuses and the counts when the status changed. */
export function jobStatusUpdated(id: string, previous: JobStatus, job: JobView, time: string): OutboxEvent {
  return {
    id,
    type: 'job.status.update',
    subject: jobSubject(job.id),
    time,
    data: { id: job.id, previous: { status: previous }, updated: { status: job.status }, counts: job.counts },
  };
}
