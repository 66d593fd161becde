/**
 * AWS IoT Core registry sync (docs/api.md, AWS IoT Core registry sync): one thing per device, kept equal to the
 * registry.
 *
 * The sync reconciles from the device as stored, not from the event that triggered it: the queue in
 * front of it does not keep order and delivers at least once, so reading the current device makes a
 * late, repeated or out-of-order message harmless (it re-applies the current state). Every call is
 * idempotent: an existing thing is updated, an attached principal attached again, a certificate
 * already in its target status left alone.
 */
import type { Device, JsonValue } from '../domain/device';
import { IotVersionConflictError } from '../domain/errors';
import { IDENTITY_SLOT } from '../domain/slots';
import { metadataAt } from '../domain/filters';
import type { DeviceStore, IotRegistry, IotThing, SlotVersionStore } from './ports';

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
}

export interface IotSyncDeps {
  devices: Pick<DeviceStore, 'get'> & Pick<SlotVersionStore, 'getSlotVersion'>;
  iot: IotRegistry;
  settings: IotSyncSettings;
  /** Re-reads after a thing version conflict. */
  maxVersionRetries?: number;
  log?: (message: string, detail: Record<string, unknown>) => void;
}

/** What the triggering events tell beyond the current state: identity versions that were just superseded. */
export interface SyncHints {
  supersededIdentityVersions?: readonly number[];
}

export interface IotSyncReport {
  deviceId: string;
  thingName: string;
  thing: 'created' | 'updated' | 'unchanged' | 'device-not-found';
  certificate: 'attached' | 'revoked' | 'decommissioned' | 'not-registered' | 'none';
  /** Certificate ARNs detached from the thing. */
  detached: string[];
}

export type IotSync = ReturnType<typeof iotSync>;

export function iotSync({ devices, iot, settings, maxVersionRetries = 5, log = () => undefined }: IotSyncDeps) {
  const certificateArn = (id: string) =>
    `arn:${settings.partition}:iot:${settings.region}:${settings.accountId}:cert/${id}`;
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

  async function identityFingerprint(device: Device, version: number): Promise<string | undefined> {
    const stored = await devices.getSlotVersion(device.id, IDENTITY_SLOT, version);
    return stored?.certificate?.sha256_fingerprint;
  }

  return {
    /** Makes the device's thing and identity certificate in AWS IoT match the stored device. */
    async syncDevice(deviceId: string, hints: SyncHints = {}): Promise<IotSyncReport> {
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
      report.thing = await ensureThing(name, thingAttributesOf(device, settings.metadataKeys, settings.maxAttributes));

      const identity = device.identity;
      if (!identity || identity.type !== 'x509') return report;
      const fingerprint = await identityFingerprint(device, identity.active_version);
      if (!fingerprint) return report;

      // The principal is the active identity certificate: one just superseded is detached.
      for (const version of new Set(hints.supersededIdentityVersions ?? [])) {
        if (version === identity.active_version) continue;
        const old = await identityFingerprint(device, version);
        if (!old || old === fingerprint || !(await iot.describeCertificate(old))) continue;
        await iot.detachPrincipal(name, certificateArn(old));
        report.detached.push(certificateArn(old));
      }

      const certificate = await iot.describeCertificate(fingerprint);
      if (!certificate) {
        log('iot-sync: the identity certificate is not registered in AWS IoT; not attached', {
          deviceId,
          certificateId: fingerprint,
        });
        return { ...report, certificate: 'not-registered' };
      }
      const arn = certificateArn(fingerprint);
      if (device.status === 'DECOMMISSIONED') {
        const target = settings.decommissionCertificateStatus;
        // REVOKED is final in AWS IoT: a revoked certificate stays revoked whatever the target.
        if (certificate.status !== target && certificate.status !== 'REVOKED')
          await iot.updateCertificate(fingerprint, target);
        await iot.detachPrincipal(name, arn);
        report.detached.push(arn);
        return { ...report, certificate: 'decommissioned' };
      }
      if (identity.status === 'REVOKED') {
        if (certificate.status !== 'REVOKED') await iot.updateCertificate(fingerprint, 'REVOKED');
        return { ...report, certificate: 'revoked' };
      }
      if (certificate.status === 'REVOKED') {
        // A released hold: the registry's certificate is valid again, but the sync never re-activates one in AWS IoT.
        log(
          'iot-sync: the identity certificate is REVOKED in AWS IoT; ' +
            'it stays so (re-activate it deliberately if intended)',
          { deviceId, certificateId: fingerprint },
        );
      }
      await iot.attachPrincipal(name, arn);
      return { ...report, certificate: 'attached' };
    },
  };
}
