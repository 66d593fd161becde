/**
 * Per-DMS AWS IoT provisioning (docs/iot-provisioning.md), beside the registry sync (iot-sync.ts): the
 * IoT policies, thing groups and JITP template a DMS's settings name are created when missing and kept
 * equal to their documents; each device's thing is put in its DMS's groups (and taken out of the groups
 * of the DMS it left) and its identity certificate gets its DMS's policies. Like the sync, it works
 * from stored state, so repeated or late messages make no call whose effect is in place.
 */
import { createHash } from 'node:crypto';
import type { Device } from '../domain/device';
import type { DmsIotSettings } from '../domain/dms-iot';
import type { IotProvisioningRegistry, IotSyncState } from './ports';

export interface IotProvisioningDeps {
  iot: IotProvisioningRegistry;
  /** The stored AWS IoT settings of a DMS (undefined: it has none). */
  dmsSettings: (dms: string) => Promise<DmsIotSettings | undefined>;
  /** The role AWS IoT assumes to run JITP templates (the stack's); without it no template is created. */
  provisioningRoleArn?: string;
  /** How long a DMS's settings read for one device serve the next ones (ms); 0 reads every time. */
  settingsTtlMs?: number;
  now?: () => number;
  log?: (message: string, detail: Record<string, unknown>) => void;
}

/** What the device's DMS settings made of it: the fields of the sync state this module owns. */
export type ProvisionedState = Required<Pick<IotSyncState, 'dms_iot_digest' | 'thing_groups' | 'policies'>>;

/** The identity certificate as the registry sync left it. */
export interface SyncedCertificate {
  arn: string;
  /** false when the sync detached it from the thing (decommission). */
  inService: boolean;
}

export interface DmsResourcesReport {
  dms: string;
  policies: Record<string, 'created' | 'updated' | 'unchanged'>;
  thing_groups: Record<string, 'created' | 'unchanged'>;
  template?: 'created' | 'updated' | 'unchanged' | 'no-role';
}

/** JSON with its object keys sorted: two documents that differ only in key order are the same document. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Whether AWS IoT's stored text holds the same JSON as `document` (text that is not JSON never does). */
function sameDocument(stored: string, document: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(stored)) === canonicalJson(document);
  } catch {
    return false;
  }
}

/** A digest of a DMS and its settings: equal digests, nothing for a device to change. */
export function dmsIotDigest(dms: string | undefined, settings: DmsIotSettings | undefined): string {
  return createHash('sha256')
    .update(canonicalJson([dms ?? null, settings ?? null]))
    .digest('base64url');
}

/** Whether the sync registers the identity certificates of a DMS (`on-bind`, or no DMS settings). */
export const registersCertificates = (settings: DmsIotSettings | undefined): boolean =>
  (settings?.registration ?? 'on-bind') === 'on-bind';

export type IotProvisioning = ReturnType<typeof iotProvisioning>;

export function iotProvisioning({
  iot,
  dmsSettings,
  provisioningRoleArn,
  settingsTtlMs = 60_000,
  now = Date.now,
  log = () => undefined,
}: IotProvisioningDeps) {
  /** Settings read recently, by DMS: a batch of one DMS's devices reads them once. */
  const cache = new Map<string, { at: number; settings: DmsIotSettings | undefined }>();
  /** The settings digest whose resources this process has ensured, by DMS. */
  const ensured = new Map<string, string>();

  async function settingsOf(dms: string): Promise<DmsIotSettings | undefined> {
    const hit = cache.get(dms);
    if (hit && now() - hit.at < settingsTtlMs) return hit.settings;
    const settings = await dmsSettings(dms);
    cache.set(dms, { at: now(), settings });
    return settings;
  }

  async function ensurePolicy(name: string, document: Record<string, unknown>) {
    const stored = await iot.getPolicy(name);
    if (!stored && (await iot.createPolicy(name, JSON.stringify(document))) === 'created') return 'created';
    // Created meanwhile (another DMS, another sync): compare with what is there.
    const current = stored ?? (await iot.getPolicy(name));
    if (current && sameDocument(current.document, document)) return 'unchanged';
    await iot.setPolicyDocument(name, JSON.stringify(document));
    return 'updated';
  }

  async function ensureTemplate(template: NonNullable<DmsIotSettings['provisioning_template']>) {
    if (!provisioningRoleArn) return 'no-role';
    const stored = await iot.describeTemplate(template.name);
    if (!stored) {
      await iot.createTemplate({
        name: template.name,
        body: JSON.stringify(template.body),
        roleArn: provisioningRoleArn,
        ...(template.description ? { description: template.description } : {}),
      });
      return 'created';
    }
    if (sameDocument(stored.body, template.body)) return 'unchanged';
    await iot.setTemplateBody(template.name, JSON.stringify(template.body));
    return 'updated';
  }

  /** Creates or updates what the settings name (policies, groups, template). */
  async function ensureResources(dms: string, settings: DmsIotSettings): Promise<DmsResourcesReport> {
    const report: DmsResourcesReport = { dms, policies: {}, thing_groups: {} };
    for (const policy of settings.policies)
      report.policies[policy.name] = await ensurePolicy(policy.name, policy.document);
    for (const group of settings.thing_groups) {
      const exists = await iot.thingGroupExists(group);
      if (!exists) await iot.createThingGroup(group);
      report.thing_groups[group] = exists ? 'unchanged' : 'created';
    }
    if (settings.provisioning_template) {
      report.template = await ensureTemplate(settings.provisioning_template);
      if (report.template === 'no-role')
        log('iot-provisioning: no provisioning role (IOT_PROVISIONING_ROLE_ARN); template not created', {
          dms,
          template: settings.provisioning_template.name,
        });
    }
    ensured.set(dms, dmsIotDigest(dms, settings));
    return report;
  }

  return {
    /** The settings of a device's DMS (read at most once per `settingsTtlMs` per DMS). */
    settingsOf,

    /** What a DMS change asks of AWS IoT at once: its resources, read fresh (a `dms.update`). */
    async syncDms(dms: string): Promise<DmsResourcesReport | undefined> {
      cache.delete(dms);
      const settings = await settingsOf(dms);
      return settings ? ensureResources(dms, settings) : undefined;
    },

    /**
     * Brings the device's thing groups and certificate policies to its DMS's settings, from what the
     * previous sync state shows in place; returns the state fields to store.
     */
    async applyToDevice(
      device: Device,
      thingName: string,
      settings: DmsIotSettings | undefined,
      certificate: SyncedCertificate | undefined,
      previous: IotSyncState | undefined,
    ): Promise<ProvisionedState> {
      const digest = dmsIotDigest(device.dms_owner, settings);
      if (settings && ensured.get(device.dms_owner) !== digest) await ensureResources(device.dms_owner, settings);

      // A decommissioned device leaves its groups; its certificate, detached, loses its policies.
      const inService = device.status !== 'DECOMMISSIONED';
      const groups = inService ? (settings?.thing_groups ?? []) : [];
      const before = previous?.thing_groups ?? [];
      for (const group of groups) if (!before.includes(group)) await iot.addThingToGroup(group, thingName);
      for (const group of before) if (!groups.includes(group)) await iot.removeThingFromGroup(group, thingName);

      const target = certificate?.inService ? certificate.arn : undefined;
      const wanted = target ? (settings?.policies ?? []).map((p) => p.name) : [];
      let attached = previous?.policies ?? [];
      const previousTarget = previous?.certificate_arn;
      if (previousTarget && previousTarget !== target) {
        // The certificate was replaced (or taken out of service): its policies go with it.
        for (const policy of attached) await iot.detachPolicy(policy, previousTarget);
        attached = [];
      }
      if (target) {
        for (const policy of wanted) if (!attached.includes(policy)) await iot.attachPolicy(policy, target);
        for (const policy of attached) if (!wanted.includes(policy)) await iot.detachPolicy(policy, target);
      }
      return { dms_iot_digest: digest, thing_groups: [...groups], policies: wanted };
    },
  };
}
