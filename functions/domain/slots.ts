/**
 * Identity and extra slots, pure: binding a new version, revoking, and time-driven status refresh.
 * Each function returns the device after the change and everything the change must record.
 */
import type { ParsedCertificate } from './certificate';
import { slotCryptoOf } from './crypto-profile';
import {
  type Device,
  type DeviceEvent,
  type DeviceEventType,
  type Slot,
  type SlotStatus,
  type SlotType,
  nextEventTimestamps,
  withInlineEvents,
} from './device';
import { InvalidStateError, UnprocessableError } from './errors';
import { type OutboxEvent, deviceDecommissioned, deviceSubject, statusUpdated } from './outbox';
import { clockOf, deviceStatusOf, nextDeviceChange, type RenewalWindows, slotStatusAt } from './status';

import { IDENTITY_SLOT, slotOf } from './slot-names';

export { IDENTITY_SLOT, slotOf } from './slot-names';

import type { RevocationReason } from './revocation';

export { REVOCATION_REASONS, type RevocationReason, revocationReasonOf } from './revocation';

export type SlotVersionStatus = 'ACTIVE' | 'SUPERSEDED' | 'REVOKED';

/** One stored version of a slot: the full certificate (x509) or the opaque secret reference. */
export interface SlotVersion {
  device_id: string;
  slot: string;
  version: number;
  type: SlotType;
  status: SlotVersionStatus;
  created_at: string;
  expiration_date?: string;
  certificate?: ParsedCertificate;
  /** Serial of an x509 version bound by reference (no PEM known, e.g. through the Lamassu edge). */
  serial_number?: string;
  secret?: string;
  revocation_reason?: RevocationReason;
  revoked_at?: string;
  /**
   * When a status the CA reported for this certificate (`certificate.status.update`) was last applied
   * to this version: the CA itself ties the certificate to the device. Not served by the API.
   */
  ca_reported_at?: string;
}

/**
 * Whether the service may ask the CA to revoke this version's certificate. Only for a certificate it
 * can tie to the device: the certificate itself (PEM) was bound, or the CA reported a status for it
 * that was applied here. A serial bound by reference alone (anyone allowed to bind can name any
 * serial) is never pushed: the service's CA credential would revoke a certificate of someone else.
 */
export function caRevocable(version: SlotVersion | undefined): version is SlotVersion {
  return version?.type === 'x509' && (version.certificate !== undefined || version.ca_reported_at !== undefined);
}

/** The outbox record's `caRevocation` for a revoked identity version (none when it is not {@link caRevocable}). */
function caRevocationOf(name: string, version: SlotVersion | undefined): Pick<OutboxEvent, 'caRevocation'> {
  if (name !== IDENTITY_SLOT || !caRevocable(version)) return {};
  const serial = version.certificate?.serial_number ?? version.serial_number;
  return serial ? { caRevocation: { serial_number: serial } } : {};
}

export type SlotMaterial =
  | { type: 'x509'; certificate: ParsedCertificate }
  /**
   * An x509 certificate known only by its serial and expiration (a Lamassu RA binds this way): the
   * caller says whether it kept the key pair (RENEWED) since there is no public key to compare.
   */
  | { type: 'x509'; serial_number: string; expiration_date: string; same_key?: boolean }
  | { type: Exclude<SlotType, 'x509'>; secret: string; expiration_date?: string };

/** The secret a material stores in the slot's `secrets` map: the certificate serial for x509. */
function secretOf(material: SlotMaterial): string {
  if ('certificate' in material) return material.certificate.serial_number;
  return 'serial_number' in material ? material.serial_number : material.secret;
}

export interface SlotMutation {
  after: Device;
  events: DeviceEvent[];
  outbox: OutboxEvent[];
  versions: SlotVersion[];
  /** Next status boundary (epoch ms), or null when the device has none. */
  due: number | null;
}

type Ids = () => string;

/** Extra slots a device may hold besides its identity: bounds the device, so every event of it fits EventBridge. */
export const MAX_EXTRA_SLOTS = 4;
/**
 * Versions whose secret a slot lists inline (`secrets`), newest first kept; every version is served by the versions
 * route.
 */
export const INLINE_SECRET_LIMIT = 3;

function withSlot(device: Device, name: string, slot: Slot): Device {
  return name === IDENTITY_SLOT
    ? { ...device, identity: slot }
    : { ...device, slots: { ...device.slots, [name]: slot } };
}

/** The newest INLINE_SECRET_LIMIT entries of a version → secret map. */
function recentSecrets(secrets: Record<string, string>): Record<string, string> {
  const keep = Object.keys(secrets)
    .sort((a, b) => Number(a) - Number(b))
    .slice(-INLINE_SECRET_LIMIT);
  return Object.fromEntries(keep.map((k) => [k, secrets[k]!]));
}

interface PlannedEvent {
  type: DeviceEventType;
  description: string;
  /** Recorded on this slot's inline events too. */
  slot?: string;
}

/**
 * Applies slot changes to a device and records them: device status follows the identity slot; every
 * status change is one STATUS-UPDATED (on the device for the identity, on the slot for extra slots).
 */
function finish(
  before: Device,
  draft: Device,
  planned: PlannedEvent[],
  /** The outbox records of the change, given its time and the final device. */
  outboxFor: (time: string, after: Device) => OutboxEvent[],
  versions: SlotVersion[],
  policy: RenewalWindows,
  now: Date,
  ids: Ids,
  /** Appended to the device STATUS-UPDATED description, e.g. why the status changed. */
  statusNote?: string,
): SlotMutation {
  const status = deviceStatusOf(draft);
  const all = [...planned];
  if (status !== before.status)
    all.push({
      type: 'STATUS-UPDATED',
      description: `Status updated from '${before.status}' to '${status}'${statusNote ? ` (${statusNote})` : ''}`,
    });
  const stamps = nextEventTimestamps(before, now, all.length);
  const events: DeviceEvent[] = all.map((e, i) => ({
    timestamp: stamps[i]!,
    type: e.type,
    description: e.description,
    ...(e.slot ? { slot: e.slot } : {}),
  }));
  let after: Device = {
    ...draft,
    status,
    events: withInlineEvents(before.events, events),
    version: before.version + 1,
  };
  for (const [i, e] of all.entries()) {
    if (!e.slot) continue;
    const slot = slotOf(after, e.slot)!;
    after = withSlot(after, e.slot, { ...slot, events: withInlineEvents(slot.events, [events[i]!]) });
  }
  const time = stamps[0]!;
  const outbox = outboxFor(time, after);
  if (status !== before.status) outbox.push(statusUpdated(ids(), before.id, before.status, status, stamps.at(-1)!));
  return { after, events, outbox, versions, due: nextDeviceChange(after, policy, now.getTime()) ?? null };
}

/** `device.identity.update` for the identity slot, `device.slot.update` (naming the slot) for others. */
function slotOutbox(
  ids: Ids,
  device: Device,
  name: string,
  previous: Slot | undefined,
  updated: Slot,
  time: string,
  revoked?: SlotVersion,
): OutboxEvent {
  const subject = deviceSubject(device.id);
  if (name === IDENTITY_SLOT)
    return {
      id: ids(),
      type: 'device.identity.update',
      subject,
      time,
      data: { previous: previous ?? null, updated },
      ...caRevocationOf(name, revoked),
    };
  return {
    id: ids(),
    type: 'device.slot.update',
    subject,
    time,
    data: { slot: name, previous: previous ?? null, updated },
  };
}

export interface BindInput {
  device: Device;
  slot: string;
  material: SlotMaterial;
  /** The stored active version of the slot, if any (decides RENEWED versus RE-PROVISIONED). */
  previous?: SlotVersion;
  policy: RenewalWindows;
  now: Date;
  ids: Ids;
}

/** Binds a new version to a slot: PROVISIONED (first), RENEWED (same key or secret) or RE-PROVISIONED. */
export function bindSlot({ device, slot: name, material, previous, policy, now, ids }: BindInput): SlotMutation {
  if (device.status === 'DECOMMISSIONED') throw new InvalidStateError(`device ${device.id} is decommissioned`);
  const expiration = 'certificate' in material ? material.certificate.not_after : material.expiration_date;
  if (expiration !== undefined && Date.parse(expiration) <= now.getTime())
    throw new UnprocessableError(`the ${material.type === 'x509' ? 'certificate' : 'secret'} expired at ${expiration}`);
  const existing = slotOf(device, name);
  if (!existing && name !== IDENTITY_SLOT && Object.keys(device.slots).length >= MAX_EXTRA_SLOTS)
    throw new InvalidStateError(`device ${device.id} already has ${MAX_EXTRA_SLOTS} extra slots, the limit`);
  const version = existing ? existing.active_version + 1 : 0;
  const secret = secretOf(material);
  const sameKey =
    previous &&
    ('certificate' in material
      ? previous.certificate?.public_key_sha256 === material.certificate.public_key_sha256
      : 'serial_number' in material
        ? material.same_key === true
        : previous.secret === material.secret);
  const kind: DeviceEventType = !existing ? 'PROVISIONED' : sameKey ? 'RENEWED' : 'RE-PROVISIONED';
  const expiresAt = expiration === undefined ? undefined : Date.parse(expiration);
  const updated: Slot = {
    status: slotStatusAt({ revoked: false, expiresAt }, policy, now.getTime()),
    active_version: version,
    type: material.type,
    secrets: recentSecrets({ ...existing?.secrets, [String(version)]: secret }),
    ...(expiration !== undefined ? { expiration_date: new Date(expiresAt!).toISOString() } : {}),
    events: existing?.events ?? {},
    // Only a certificate bound with its PEM has a profile: a serial alone says nothing of key or issuer.
    ...('certificate' in material ? { crypto: slotCryptoOf(material.certificate) } : {}),
  };
  const stored: SlotVersion = {
    device_id: device.id,
    slot: name,
    version,
    type: material.type,
    status: 'ACTIVE',
    created_at: now.toISOString(),
    ...(updated.expiration_date ? { expiration_date: updated.expiration_date } : {}),
    ...('certificate' in material
      ? { certificate: material.certificate }
      : 'serial_number' in material
        ? { serial_number: material.serial_number }
        : { secret: material.secret }),
  };
  const versions = [
    stored,
    ...(previous && previous.status === 'ACTIVE' ? [{ ...previous, status: 'SUPERSEDED' as const }] : []),
  ];
  const label = material.type === 'x509' ? `certificate ${secret}` : `${material.type} secret`;
  const description =
    `${kind === 'PROVISIONED' ? 'Provisioned' : kind === 'RENEWED' ? 'Renewed' : 'Re-provisioned'} ` +
    `slot '${name}' with ${label} (version ${version})`;
  return finish(
    device,
    withSlot(device, name, updated),
    [{ type: kind, description, slot: name }],
    (time) => [slotOutbox(ids, device, name, existing, updated, time)],
    versions,
    policy,
    now,
    ids,
  );
}

export interface RevokeInput {
  device: Device;
  slot: string;
  reason: RevocationReason;
  /** The stored active version (marked REVOKED). */
  active?: SlotVersion;
  policy: RenewalWindows;
  now: Date;
  ids: Ids;
}

/** Revokes the active version of a slot; undefined when it is revoked already (idempotent). */
export function revokeSlot({
  device,
  slot: name,
  reason,
  active,
  policy,
  now,
  ids,
}: RevokeInput): SlotMutation | undefined {
  const existing = slotOf(device, name);
  if (!existing || existing.status === 'REVOKED') return undefined;
  const updated: Slot = { ...existing, status: 'REVOKED' };
  const versions = active
    ? [{ ...active, status: 'REVOKED' as const, revocation_reason: reason, revoked_at: now.toISOString() }]
    : [];
  const description = `Revoked slot '${name}' version ${existing.active_version} (reason ${reason})`;
  return finish(
    device,
    withSlot(device, name, updated),
    [{ type: 'REVOKED', description, slot: name }],
    (time) => [slotOutbox(ids, device, name, existing, updated, time, active)],
    versions,
    policy,
    now,
    ids,
  );
}

/**
 * Time-driven refresh: re-evaluates every slot against the policy at `now`. Returns the mutation when
 * a status changed, or only the next boundary when nothing did.
 */
export function refreshSlots(
  device: Device,
  policy: RenewalWindows,
  now: Date,
  ids: Ids,
): { mutation?: SlotMutation; due: number | null } {
  if (device.status === 'DECOMMISSIONED') return { due: null };
  const t = now.getTime();
  let draft = device;
  const planned: PlannedEvent[] = [];
  const outbox: ((time: string) => OutboxEvent)[] = [];
  const names = [...(device.identity ? [IDENTITY_SLOT] : []), ...Object.keys(device.slots).sort()];
  for (const name of names) {
    const slot = slotOf(device, name)!;
    const status: SlotStatus = slotStatusAt(clockOf(slot), policy, t);
    if (status === slot.status) continue;
    const updated = { ...slot, status };
    draft = withSlot(draft, name, updated);
    planned.push({
      type: 'STATUS-UPDATED',
      description: `Slot '${name}' status updated from '${slot.status}' to '${status}'`,
      slot: name,
    });
    // The identity's change is told by device.status.update; an extra slot's by device.slot.update.
    if (name !== IDENTITY_SLOT) outbox.push((time) => slotOutbox(ids, device, name, slot, updated, time));
  }
  if (planned.length === 0) return { due: nextDeviceChange(device, policy, t) ?? null };
  // The identity slot's change is the device's STATUS-UPDATED: record it once, on the device.
  const identityOnly = planned.filter((p) => p.slot !== IDENTITY_SLOT);
  const mutation = finish(device, draft, identityOnly, (time) => outbox.map((o) => o(time)), [], policy, now, ids);
  if (draft.identity && draft.identity.status !== device.identity?.status) {
    // Mirror the device-level STATUS-UPDATED onto the identity slot's own inline events.
    const statusEvent = mutation.events.find((e) => e.type === 'STATUS-UPDATED' && e.slot === undefined);
    if (statusEvent) {
      const identity = mutation.after.identity!;
      mutation.after = {
        ...mutation.after,
        identity: { ...identity, events: withInlineEvents(identity.events, [statusEvent]) },
      };
    }
  }
  return { mutation, due: mutation.due };
}

/** Decommission: terminal. Revokes the active identity version (CessationOfOperation). */
export function decommissionDevice(
  device: Device,
  activeIdentity: SlotVersion | undefined,
  policy: RenewalWindows,
  now: Date,
  ids: Ids,
): SlotMutation | undefined {
  if (device.status === 'DECOMMISSIONED') return undefined;
  let draft: Device = { ...device, status: 'DECOMMISSIONED' };
  const planned: PlannedEvent[] = [{ type: 'DECOMMISSIONED', description: 'Device decommissioned' }];
  const versions: SlotVersion[] = [];
  const identity = device.identity;
  let revokedIdentity: Slot | undefined;
  if (identity && identity.status !== 'REVOKED') {
    revokedIdentity = { ...identity, status: 'REVOKED' };
    draft = { ...draft, identity: revokedIdentity };
    planned.push({
      type: 'REVOKED',
      description: `Revoked slot '${IDENTITY_SLOT}' version ${identity.active_version} (reason CessationOfOperation)`,
      slot: IDENTITY_SLOT,
    });
    if (activeIdentity)
      versions.push({
        ...activeIdentity,
        status: 'REVOKED',
        revocation_reason: 'CessationOfOperation',
        revoked_at: now.toISOString(),
      });
  }
  const mutation = finish(
    device,
    draft,
    planned,
    (time, after) => [
      deviceDecommissioned(ids(), device, after, time),
      ...(revokedIdentity
        ? [slotOutbox(ids, device, IDENTITY_SLOT, identity, revokedIdentity, time, activeIdentity)]
        : []),
    ],
    versions,
    policy,
    now,
    ids,
  );
  return { ...mutation, due: null };
}

/** The DetailType of the certificate status events the registry consumes (docs/api.md, Events on EventBridge). */
export const CERTIFICATE_STATUS_DETAIL_TYPE = 'certificate.status.update';

/**
 * The type of the revocation requests put on the bus for a CA connector when an identity certificate is revoked
 * here (docs/lamassu-compatibility.md, Revocation pushed to the CA); the CA revocation call consumes them.
 */
export const REVOCATION_REQUEST_TYPE = 'ca.certificate.revoke.request';

/** Certificate statuses a CA reports (docs/api.md, Events on EventBridge, consumed `certificate.status.update`). */
export const CERTIFICATE_STATUSES = ['REVOKED', 'ACTIVE', 'EXPIRED'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/**
 * How far ahead of a certificate's `not_after` an `EXPIRED` report is still believed (clock skew
 * between the CA and the registry). An earlier report is ignored: the status rules would undo it.
 */
const EXPIRY_SKEW_MS = 5 * 60_000;

export interface CertificateStatusInput {
  device: Device;
  /** The stored version that holds the certificate. */
  version: SlotVersion;
  status: CertificateStatus;
  /** For REVOKED; default Unspecified. */
  reason?: RevocationReason;
  policy: RenewalWindows;
  now: Date;
  ids: Ids;
}

/** What a reported certificate status does to a device (pure). */
export type CertificateStatusOutcome =
  /** The version is the slot's active one: the device changes through the usual mutation. */
  | { kind: 'mutation'; mutation: SlotMutation }
  /** A superseded version: only its stored version item changes. */
  | { kind: 'version'; version: SlotVersion }
  /** Nothing to change; `note` says why. */
  | { kind: 'none'; note: string };

const withoutRevocation = (version: SlotVersion, status: SlotVersionStatus): SlotVersion => {
  const { revocation_reason: _reason, revoked_at: _at, ...rest } = version;
  return { ...rest, status };
};

/**
 * Applies a status reported by the CA for one stored certificate version. Only the slot's active
 * version moves the slot (and, for the identity, the device): REVOKED revokes it with the reported
 * reason; ACTIVE releases a CertificateHold (any other revocation is permanent), after which the
 * status rules decide the slot's status; EXPIRED marks the slot EXPIRED once the certificate's
 * not_after is (nearly) reached. A superseded version only has its version item updated.
 */
export function applyCertificateStatus({
  device,
  version,
  status,
  reason = 'Unspecified',
  policy,
  now,
  ids,
}: CertificateStatusInput): CertificateStatusOutcome {
  const name = version.slot;
  const slot = slotOf(device, name);
  const label = `slot '${name}' version ${version.version}`;
  if (!slot) return { kind: 'none', note: `the device has no ${label}` };
  const active = slot.active_version === version.version;
  // What the CA reports ties the certificate to this device (see caRevocable).
  const reported: SlotVersion = { ...version, ca_reported_at: now.toISOString() };

  if (status === 'REVOKED') {
    if (version.status === 'REVOKED') return { kind: 'none', note: `${label} is revoked already` };
    if (!active)
      return {
        kind: 'version',
        version: { ...reported, status: 'REVOKED', revocation_reason: reason, revoked_at: now.toISOString() },
      };
    const mutation = revokeSlot({ device, slot: name, reason, active: reported, policy, now, ids });
    return mutation ? { kind: 'mutation', mutation } : { kind: 'none', note: `${label} is revoked already` };
  }

  if (status === 'ACTIVE') {
    if (version.status !== 'REVOKED') return { kind: 'none', note: `${label} is not revoked` };
    if (version.revocation_reason !== 'CertificateHold')
      return {
        kind: 'none',
        note:
          `${label} was revoked with reason ${version.revocation_reason ?? 'Unspecified'}, ` +
          `which is permanent (only CertificateHold is released)`,
      };
    if (!active) return { kind: 'version', version: withoutRevocation(reported, 'SUPERSEDED') };
    if (device.status === 'DECOMMISSIONED') return { kind: 'none', note: `device ${device.id} is decommissioned` };
    const updated: Slot = {
      ...slot,
      status: slotStatusAt(
        {
          revoked: false,
          expiresAt: slot.expiration_date === undefined ? undefined : Date.parse(slot.expiration_date),
        },
        policy,
        now.getTime(),
      ),
    };
    const note = 'certificate hold released';
    return {
      kind: 'mutation',
      mutation: slotStatusChange(
        device,
        name,
        slot,
        updated,
        [withoutRevocation(reported, 'ACTIVE')],
        note,
        policy,
        now,
        ids,
      ),
    };
  }

  // EXPIRED: the status rules stay the source of truth, so a report well before not_after is ignored.
  if (!active) return { kind: 'none', note: `${label} is superseded; expiry changes nothing` };
  if (slot.status === 'REVOKED' || slot.status === 'EXPIRED')
    return { kind: 'none', note: `${label} is ${slot.status} already` };
  const expiresAt = slot.expiration_date === undefined ? undefined : Date.parse(slot.expiration_date);
  if (expiresAt !== undefined && now.getTime() < expiresAt - EXPIRY_SKEW_MS)
    return { kind: 'none', note: `${label} expires at ${slot.expiration_date}, not yet` };
  return {
    kind: 'mutation',
    mutation: slotStatusChange(
      device,
      name,
      slot,
      { ...slot, status: 'EXPIRED' },
      [],
      'reported expired by the CA',
      policy,
      now,
      ids,
    ),
  };
}

/**
 * A slot status change that is not a bind or a revocation: recorded like the sweeper's transitions
 * (the identity's change is the device's STATUS-UPDATED, mirrored on the slot; an extra slot gets
 * its own STATUS-UPDATED and `device.slot.update`), plus the slot event of the identity.
 */
function slotStatusChange(
  device: Device,
  name: string,
  slot: Slot,
  updated: Slot,
  versions: SlotVersion[],
  note: string,
  policy: RenewalWindows,
  now: Date,
  ids: Ids,
): SlotMutation {
  const draft = withSlot(device, name, updated);
  const planned: PlannedEvent[] =
    name === IDENTITY_SLOT
      ? []
      : [
          {
            type: 'STATUS-UPDATED',
            description: `Slot '${name}' status updated from '${slot.status}' to '${updated.status}' (${note})`,
            slot: name,
          },
        ];
  const mutation = finish(
    device,
    draft,
    planned,
    (time) => [slotOutbox(ids, device, name, slot, updated, time)],
    versions,
    policy,
    now,
    ids,
    note,
  );
  if (name === IDENTITY_SLOT) {
    const statusEvent = mutation.events.find((e) => e.type === 'STATUS-UPDATED' && e.slot === undefined);
    if (statusEvent) {
      const identity = mutation.after.identity!;
      mutation.after = {
        ...mutation.after,
        identity: { ...identity, events: withInlineEvents(identity.events, [statusEvent]) },
      };
    }
  }
  return mutation;
}
