/**
 * AWS IoT Core registry sync (docs/api.md, AWS IoT Core registry sync): one thing per device, kept equal to the
 * registry.
 *
 * The sync reconciles from the device as stored, not from the event that triggered it: the queue in
 * front of it does not keep order and delivers at least once, so reading the current device makes a
 * late, repeated or out-of-order message harmless (it re-applies the current state). Every call is
 * idempotent: an existing thing is updated, a registered certificate counts as registered, one already
 * in its target status is left alone. What the sync did is stored per device (IotSyncState), so a call
 * whose effect is in place is not made again, and a superseded certificate is known without the event.
 */
import { createHash } from 'node:crypto';
import type { Device, JsonValue } from '../domain/device';
import { IotVersionConflictError, VersionConflictError } from '../domain/errors';
import { storedFindingsOf } from '../domain/findings';
import { isIotFinding } from '../domain/iot-findings';
import { IDENTITY_SLOT, type SlotVersion } from '../domain/slots';
import { metadataAt } from '../domain/filters';
import { dmsIotDigest, type IotProvisioning, registersCertificates } from './iot-provisioning';
import type {
  DeviceStore,
  IotCertificate,
  IotRegistry,
  IotSyncState,
  IotSyncStateStore,
  IotThing,
  SlotVersionStore,
} from './ports';
import type { ShadowSync } from './iot-shadow';

/** AWS IoT thing attribute values: at most 800 of these characters. */
const ATTRIBUTE_VALUE_FORBIDDEN = /[^a-zA-Z0-9_.,@/:#=[\]-]/g;
export const ATTRIBUTE_VALUE_MAX = 800;

/** The thing of a device: the device id with `.` mapped to `_` (thing names allow [a-zA-Z0-9:_-]). */
export function thingNameOf(deviceId: string): string {
  return deviceId.replace(/\./g, '_');
}

/**
 * A device value as an attribute value: strings as they are, numbers and booleans as text, objects
 * and arrays as JSON; each character IoT does not allow becomes `_`, and the result is cut at 800.
 * Undefined for null, missing or empty values (an empty value would delete the attribute).
 */
export function attributeValueOf(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const clean = text.replace(ATTRIBUTE_VALUE_FORBIDDEN, '_').slice(0, ATTRIBUTE_VALUE_MAX);
  return clean === '' ? undefined : clean;
}

/** A metadata value by key: the key itself first, else read as a dotted path (`location.building`). */
function metadataValue(metadata: Record<string, JsonValue>, key: string): JsonValue | undefined {
  // Own keys only: `toString` is a key like any other, never Object.prototype's member.
  if (Object.hasOwn(metadata, key)) return metadata[key];
  return metadataAt(metadata, key.split('.'));
}

/** The attributes the sync owns: `status`, `dms_owner`, then the configured metadata keys that fit the limit. */
export function managedKeys(metadataKeys: readonly string[], maxAttributes: number): string[] {
  const own = metadataKeys.filter((k) => k !== 'status' && k !== 'dms_owner');
  return ['status', 'dms_owner', ...own.slice(0, Math.max(0, maxAttributes - 2))];
}

/** The thing attributes of a device (docs/api.md, AWS IoT Core registry sync). */
export function thingAttributesOf(
  device: Device,
  metadataKeys: readonly string[],
  maxAttributes: number,
): Record<string, string> {
  const attributes: Record<string, string> = { status: device.status };
  const dms = attributeValueOf(device.dms_owner);
  if (dms) attributes.dms_owner = dms;
  for (const key of managedKeys(metadataKeys, maxAttributes).slice(2)) {
    const value = attributeValueOf(metadataValue(device.metadata, key));
    if (value !== undefined) attributes[key] = value;
  }
  return attributes;
}

export interface IotSyncSettings {
  /** The AWS partition of the certificate ARNs (`aws`, `aws-cn`, `aws-us-gov`). */
  partition: string;
  region: string;
  accountId: string;
  metadataKeys: readonly string[];
  /** Things get this type (up to 50 attributes); without one, 3. */
  thingTypeName?: string;
  maxAttributes: number;
  decommissionCertificateStatus: 'INACTIVE' | 'REVOKED';
  /**
   * What the sync does with an identity certificate AWS IoT does not know: register it without a CA
   * (multi-account / SNI mode), with its CA (registered in AWS IoT), or nothing (it is logged).
   */
  certificateRegistration: CertificateRegistration;
}

export const CERTIFICATE_REGISTRATIONS = ['without-ca', 'with-ca', 'none'] as const;
export type CertificateRegistration = (typeof CERTIFICATE_REGISTRATIONS)[number];

export interface IotSyncDeps {
  devices: Pick<DeviceStore, 'get'> & Pick<SlotVersionStore, 'getSlotVersion'>;
  iot: IotRegistry;
  settings: IotSyncSettings;
  /** What the sync last did per device: lets it skip calls whose effect is in place (without it, all are made). */
  states?: IotSyncStateStore;
  /** Per-DMS policies, thing groups and registration mode (iot-provisioning.ts); without it, none. */
  provisioning?: IotProvisioning;
  now?: () => Date;
  /** Re-reads after a thing version conflict. */
  maxVersionRetries?: number;
  log?: (message: string, detail: Record<string, unknown>) => void;
  /** The device shadow's identity actions (docs/events.md, Device shadow: identity actions); without it, none. */
  shadow?: ShadowSync;
  /**
   * Resolves a device's `revoked-still-active-in-iot` finding once AWS IoT holds the device at `version`
   * (domain/iot-findings.ts): 'moved' when the device changed since. Without it, findings are left alone.
   */
  findings?: IotFindings;
}

export interface IotFindings {
  resolveIot(deviceId: string, version: number): Promise<'resolved' | 'moved' | 'none'>;
}

/** What the triggering events tell beyond the current state: identity versions that were just superseded. */
export interface SyncHints {
  supersededIdentityVersions?: readonly number[];
}

export interface IotSyncReport {
  deviceId: string;
  thingName: string;
  thing: 'created' | 'updated' | 'unchanged' | 'device-not-found';
  certificate: 'attached' | 'on-hold' | 'revoked' | 'decommissioned' | 'not-registered' | 'unchanged' | 'none';
  /** Certificate ARNs detached from the thing. */
  detached: string[];
  /** The identity certificate was registered in AWS IoT by this sync. */
  registered?: boolean;
  /** What the device shadow's identity actions became (absent without shadow writes). */
  shadow?: 'requested' | 'cleared' | 'unchanged';
  /** The device's `revoked-still-active-in-iot` finding was resolved by this sync. */
  finding?: 'resolved';
}

export type IotSync = ReturnType<typeof iotSync>;

export function iotSync({
  devices,
  iot,
  settings,
  states,
  provisioning,
  now = () => new Date(),
  maxVersionRetries = 5,
  log = () => undefined,
  shadow,
  findings,
}: IotSyncDeps) {
  const iotArn = (resource: string) =>
    `arn:${settings.partition}:iot:${settings.region}:${settings.accountId}:${resource}`;
  const certificateArn = (id: string) => iotArn(`cert/${id}`);
  const thingArn = (name: string) => iotArn(`thing/${name}`);
  const managed = managedKeys(settings.metadataKeys, settings.maxAttributes);

  /** The attribute changes that make `thing` match `desired` (merge semantics: '' removes). */
  function changesFor(thing: IotThing, desired: Record<string, string>): Record<string, string> {
    const changes: Record<string, string> = {};
    for (const [key, value] of Object.entries(desired)) if (thing.attributes[key] !== value) changes[key] = value;
    for (const key of managed) if (!(key in desired) && key in thing.attributes) changes[key] = '';
    return changes;
  }

  /** Creates or updates the thing; a version conflict re-reads and re-applies. */
  async function ensureThing(
    name: string,
    desired: Record<string, string>,
  ): Promise<'created' | 'updated' | 'unchanged'> {
    const type = settings.thingTypeName;
    for (let attempt = 0; attempt <= maxVersionRetries; attempt++) {
      const thing = await iot.describeThing(name);
      if (!thing) {
        // 'exists': created meanwhile with another configuration; read it and update it.
        if ((await iot.createThing(name, desired, type)) === 'created') return 'created';
        continue;
      }
      const changes = changesFor(thing, desired);
      const retype = type !== undefined && thing.thingTypeName !== type;
      if (Object.keys(changes).length === 0 && !retype) return 'unchanged';
      try {
        await iot.updateThing(name, changes, thing.version, type);
        return 'updated';
      } catch (error) {
        if (!(error instanceof IotVersionConflictError)) throw error;
        log('iot-sync: thing changed concurrently; re-reading', { thingName: name, expectedVersion: thing.version });
      }
    }
    throw new IotVersionConflictError(name);
  }

  async function identityVersion(device: Device, version: number): Promise<SlotVersion | undefined> {
    const stored = await devices.getSlotVersion(device.id, IDENTITY_SLOT, version);
    return stored?.certificate?.sha256_fingerprint ? stored : undefined;
  }

  /**
   * What a superseded certificate becomes in AWS IoT: the decommission setting (INACTIVE by default),
   * or REVOKED when the registry revoked that version for good (its key is not to be trusted again).
   */
  const supersededTarget = (version: SlotVersion): 'INACTIVE' | 'REVOKED' =>
    version.status === 'REVOKED' && version.revocation_reason !== 'CertificateHold'
      ? 'REVOKED'
      : settings.decommissionCertificateStatus;

  /** What the certificate of the device should be in AWS IoT, from the stored device and its active version. */
  function certificateGoal(device: Device, active: SlotVersion): CertificateGoal {
    if (device.status === 'DECOMMISSIONED')
      return { status: settings.decommissionCertificateStatus, attached: false, outcome: 'decommissioned' };
    if (device.identity?.status === 'REVOKED') {
      // A hold is temporary: INACTIVE, which its release undoes; any other reason is final (REVOKED).
      const onHold = active.revocation_reason === 'CertificateHold';
      return { status: onHold ? 'INACTIVE' : 'REVOKED', outcome: onHold ? 'on-hold' : 'revoked' };
    }
    return { status: 'ACTIVE', attached: true, outcome: 'attached' };
  }

  /** The certificates to take out of service: superseded versions named by the events, and the one last synced. */
  async function supersededCertificates(
    device: Device,
    fingerprint: string,
    hinted: ReadonlySet<number>,
    previous: IotSyncState | undefined,
  ): Promise<Map<string, 'INACTIVE' | 'REVOKED'>> {
    const targets = new Map<string, 'INACTIVE' | 'REVOKED'>();
    for (const version of hinted) {
      if (version === device.identity?.active_version) continue;
      const superseded = await identityVersion(device, version);
      const old = superseded?.certificate?.sha256_fingerprint;
      if (superseded && old && old !== fingerprint) targets.set(old, supersededTarget(superseded));
    }
    const last = previous?.certificate_id;
    if (last && last !== fingerprint && !targets.has(last)) targets.set(last, settings.decommissionCertificateStatus);
    return targets;
  }

  /** Brings the identity certificate to its goal; returns what AWS IoT then holds. */
  async function syncCertificate(
    name: string,
    device: Device,
    deviceId: string,
    active: SlotVersion,
    fingerprint: string,
    report: IotSyncReport,
    registers: boolean,
  ): Promise<Pick<IotSyncState, 'certificate_id' | 'certificate_arn' | 'certificate_status' | 'attached'>> {
    const goal = certificateGoal(device, active);
    const arn = certificateArn(fingerprint);
    const certificate =
      (await iot.describeCertificate(fingerprint)) ??
      (registers ? await registerCertificate(deviceId, active, goal, report) : undefined);
    if (!certificate) {
      log('iot-sync: the identity certificate is not registered in AWS IoT; not attached', {
        deviceId,
        certificateId: fingerprint,
        registration: settings.certificateRegistration,
      });
      report.certificate = 'not-registered';
      return {};
    }
    let status = certificate.status;
    // REVOKED is final in AWS IoT: a revoked certificate stays revoked whatever the goal.
    if (status === 'REVOKED' && goal.status !== 'REVOKED')
      log('iot-sync: the identity certificate is REVOKED in AWS IoT, which is final', {
        deviceId,
        certificateId: fingerprint,
      });
    else if (status !== goal.status) {
      await iot.updateCertificate(fingerprint, goal.status);
      status = goal.status;
    }
    if (goal.attached === true) await iot.attachPrincipal(name, arn);
    if (goal.attached === false) {
      await iot.detachPrincipal(name, arn);
      report.detached.push(arn);
    }
    report.certificate = goal.outcome;
    return {
      certificate_id: fingerprint,
      certificate_arn: arn,
      certificate_status: status,
      ...(goal.attached === undefined ? {} : { attached: goal.attached }),
    };
  }

  /**
   * Registers a certificate AWS IoT does not know, when the setting says so and the device is to use it
   * (a revoked or decommissioned device's certificate is not registered just to be disabled).
   */
  async function registerCertificate(
    deviceId: string,
    active: SlotVersion,
    goal: CertificateGoal,
    report: IotSyncReport,
  ): Promise<IotCertificate | undefined> {
    const pem = active.certificate?.pem;
    if (settings.certificateRegistration === 'none' || goal.status !== 'ACTIVE' || !pem) return undefined;
    const registered = await iot.registerCertificate(pem, settings.certificateRegistration === 'with-ca');
    report.registered = true;
    if (registered === 'exists') return iot.describeCertificate(active.certificate!.sha256_fingerprint);
    if (registered.id !== active.certificate!.sha256_fingerprint)
      log('iot-sync: AWS IoT named the registered certificate differently than its fingerprint', {
        deviceId,
        certificateId: registered.id,
      });
    return { id: registered.id, status: 'ACTIVE' };
  }

  /** Whether the state says AWS IoT already holds the certificate's goal (so no call is needed). */
  function inPlace(previous: IotSyncState | undefined, fingerprint: string, goal: CertificateGoal): boolean {
    return (
      previous?.certificate_id === fingerprint &&
      previous.certificate_status === goal.status &&
      (goal.attached === undefined || previous.attached === goal.attached)
    );
  }

  /**
   * AWS IoT now holds `device` (this sync's calls landed, or the state showed them in place): an open
   * `revoked-still-active-in-iot` finding resolves. The device version the resolution writes, if any;
   * 'moved' when the device changed since it was read (synced again then).
   */
  async function confirmed(device: Device, report: IotSyncReport): Promise<number | 'moved' | undefined> {
    if (!findings || !storedFindingsOf(device)?.findings.some(isIotFinding)) return undefined;
    const outcome = await findings.resolveIot(device.id, device.version);
    if (outcome === 'moved') return 'moved';
    if (outcome === 'none') return undefined;
    report.finding = 'resolved';
    return device.version + 1;
  }

  /** One reconcile of the device as read now; 'moved' when an open finding could not be resolved for it. */
  async function syncOnce(deviceId: string, hints: SyncHints): Promise<IotSyncReport | 'moved'> {
    const name = thingNameOf(deviceId);
    const report: IotSyncReport = {
      deviceId,
      thingName: name,
      thing: 'unchanged',
      certificate: 'none',
      detached: [],
    };
    const device = await devices.get(deviceId);
    if (!device) {
      log('iot-sync: device not found; nothing to sync', { deviceId });
      return { ...report, thing: 'device-not-found' };
    }
    const hinted = new Set(hints.supersededIdentityVersions ?? []);
    const previous = await states?.get(deviceId);
    const dmsIot = await provisioning?.settingsOf(device.dms_owner);
    // Nothing changed since the last successful sync (a repeated or late message): no AWS IoT call.
    if (
      previous &&
      previous.device_version >= device.version &&
      !previous.last_error &&
      hinted.size === 0 &&
      (!provisioning || previous.dms_iot_digest === dmsIotDigest(device.dms_owner, dmsIot))
    ) {
      const unchanged: IotSyncReport = { ...report, certificate: 'unchanged' };
      const resolved = await confirmed(device, unchanged);
      if (resolved === 'moved') return 'moved';
      if (resolved !== undefined) await states?.put(deviceId, { ...previous, device_version: resolved });
      return unchanged;
    }

    const base: IotSyncState = {
      device_version: previous?.device_version ?? 0,
      thing_name: name,
      thing_arn: thingArn(name),
      attributes_digest: previous?.attributes_digest ?? '',
      last_sync: now().toISOString(),
    };
    try {
      const desired = thingAttributesOf(device, settings.metadataKeys, settings.maxAttributes);
      const digest = digestOf(desired, settings.thingTypeName);
      if (previous?.attributes_digest !== digest) report.thing = await ensureThing(name, desired);
      const next: IotSyncState = { ...base, device_version: device.version, attributes_digest: digest };

      const identity = device.identity;
      const active = identity?.type === 'x509' ? await identityVersion(device, identity.active_version) : undefined;
      const fingerprint = active?.certificate?.sha256_fingerprint;
      if (active && fingerprint) {
        // The principal is the active identity certificate: one superseded is deactivated (its key may
        // have leaked: that is often why a device is re-provisioned) and detached.
        for (const [old, target] of await supersededCertificates(device, fingerprint, hinted, previous)) {
          const registered = await iot.describeCertificate(old);
          if (!registered) continue;
          if (registered.status !== target && registered.status !== 'REVOKED') await iot.updateCertificate(old, target);
          await iot.detachPrincipal(name, certificateArn(old));
          report.detached.push(certificateArn(old));
        }
        if (inPlace(previous, fingerprint, certificateGoal(device, active))) {
          report.certificate = 'unchanged';
          const { certificate_id, certificate_arn, certificate_status, attached } = previous!;
          Object.assign(next, { certificate_id, certificate_arn, certificate_status, attached });
        } else {
          const registers = registersCertificates(dmsIot);
          Object.assign(next, await syncCertificate(name, device, deviceId, active, fingerprint, report, registers));
        }
      }
      if (provisioning) {
        const certificate = next.certificate_arn
          ? { arn: next.certificate_arn, inService: next.attached !== false }
          : undefined;
        Object.assign(next, await provisioning.applyToDevice(device, name, dmsIot, certificate, previous));
      }
      if (shadow) {
        // After the certificate: a device told to renew finds its current certificate in place.
        const { actions, shadowName, outcome } = await shadow.sync(
          name,
          device,
          { actions: previous?.shadow_actions, shadowName: previous?.shadow_name },
          dmsIot?.shadow_name,
        );
        report.shadow = outcome;
        if (actions) next.shadow_actions = actions;
        if (actions && shadowName) next.shadow_name = shadowName;
      }
      // After every call landed: a failed call (thrown above) keeps the finding open for the retry.
      const resolved = await confirmed(device, report);
      if (resolved === 'moved') {
        await states?.put(deviceId, next);
        return 'moved';
      }
      // The resolution changed the findings only: the state covers the version it wrote.
      await states?.put(deviceId, resolved === undefined ? next : { ...next, device_version: resolved });
      return report;
    } catch (error) {
      // Recorded for the operator (GET /v2/devices/{id}: iot.last_error); the state version stays, so it is retried.
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const failed: IotSyncState = previous ? { ...previous, last_sync: base.last_sync } : base;
      await states?.put(deviceId, { ...failed, last_error: message.slice(0, 1000) }).catch(() => undefined);
      throw error;
    }
  }

  return {
    /**
     * Makes the device's thing and identity certificate in AWS IoT match the stored device, calling
     * only what the stored sync state does not show in place, and records what it did. A device that
     * changed before its finding could be resolved is read and synced again.
     */
    async syncDevice(deviceId: string, hints: SyncHints = {}): Promise<IotSyncReport> {
      for (let attempt = 0; attempt <= maxVersionRetries; attempt++) {
        const report = await syncOnce(deviceId, hints);
        if (report !== 'moved') return report;
        log('iot-sync: device changed before its finding was resolved; syncing it again', { deviceId });
      }
      throw new VersionConflictError(`device ${deviceId}`);
    },

    /** A DMS changed: its policies, thing groups and template brought to its settings at once. */
    syncDms: (dms: string) => provisioning?.syncDms(dms) ?? Promise.resolve(undefined),
  };
}

interface CertificateGoal {
  status: 'ACTIVE' | 'INACTIVE' | 'REVOKED';
  /** true: the thing's principal; false: detached; undefined: left as it is. */
  attached?: boolean;
  outcome: IotSyncReport['certificate'];
}

/** A digest of the thing attributes and type: equal digests, nothing to update. */
export function digestOf(attributes: Record<string, string>, thingTypeName: string | undefined): string {
  const sorted = Object.keys(attributes)
    .sort()
    .map((k) => [k, attributes[k]]);
  return createHash('sha256')
    .update(JSON.stringify([thingTypeName ?? null, sorted]))
    .digest('base64url');
}
