/**
 * A dry-run AWS IoT registry for the local service: things and certificate statuses live in memory,
 * and every call that would change AWS IoT is logged instead. A certificate is unknown until the sync
 * registers it (so the registration, attach, revoke and detach it would do are shown). Set
 * IOT_ENDPOINT to call a real endpoint instead.
 */
import { X509Certificate } from 'node:crypto';
import type {
  IotCaRegistry,
  IotCertificateStatus,
  IotProvisioningRegistry,
  IotRegistry,
  IotShadows,
  IotThing,
} from '../functions/app/ports';
import { IotCaExistsError } from '../functions/domain/errors';

export function dryRunIotRegistry(say: (line: string) => void): IotRegistry & { things: Map<string, IotThing> } {
  const things = new Map<string, IotThing>();
  const certificates = new Map<string, IotCertificateStatus>();
  const log = (call: string, detail: unknown) => say(`[iot dry-run] ${call} ${JSON.stringify(detail)}`);
  return {
    things,
    async describeThing(name) {
      return things.get(name);
    },
    async createThing(name, attributes, thingTypeName) {
      log('CreateThing', { thingName: name, thingTypeName, attributes });
      things.set(name, {
        name,
        version: 1,
        attributes: { ...attributes },
        ...(thingTypeName ? { thingTypeName } : {}),
      });
      return 'created';
    },
    async updateThing(name, attributes, expectedVersion, thingTypeName) {
      log('UpdateThing', { thingName: name, thingTypeName, attributes, expectedVersion });
      const thing = things.get(name)!;
      const merged = { ...thing.attributes };
      for (const [k, v] of Object.entries(attributes))
        if (v === '') delete merged[k];
        else merged[k] = v;
      things.set(name, {
        ...thing,
        attributes: merged,
        version: thing.version + 1,
        ...(thingTypeName ? { thingTypeName } : {}),
      });
    },
    async describeCertificate(id) {
      const status = certificates.get(id);
      return status ? { id, status } : undefined;
    },
    async registerCertificate(pem, withCa) {
      // AWS IoT names a certificate by the SHA-256 of its DER, as the registry does.
      const id = new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
      log(withCa ? 'RegisterCertificate' : 'RegisterCertificateWithoutCA', { certificateId: id, status: 'ACTIVE' });
      if (certificates.has(id)) return 'exists';
      certificates.set(id, 'ACTIVE');
      return { id };
    },
    async updateCertificate(id, status) {
      log('UpdateCertificate', { certificateId: id, newStatus: status });
      certificates.set(id, status);
    },
    async attachPrincipal(thingName, principal) {
      log('AttachThingPrincipal', { thingName, principal });
    },
    async detachPrincipal(thingName, principal) {
      log('DetachThingPrincipal', { thingName, principal });
    },
  };
}

/**
 * The dry run of per-DMS provisioning (docs/iot-provisioning.md): policies, thing groups and templates
 * live in memory, and every call that would change AWS IoT is logged.
 */
export function dryRunIotProvisioning(say: (line: string) => void): IotProvisioningRegistry & {
  policies: Map<string, string>;
  groups: Map<string, Set<string>>;
  attached: Map<string, Set<string>>;
} {
  const policies = new Map<string, string>();
  const groups = new Map<string, Set<string>>();
  const templates = new Map<string, { body: string; roleArn?: string }>();
  /** Policy name → the targets it is attached to. */
  const attached = new Map<string, Set<string>>();
  const log = (call: string, detail: unknown) => say(`[iot dry-run] ${call} ${JSON.stringify(detail)}`);
  return {
    policies,
    groups,
    attached,
    async getPolicy(name) {
      const document = policies.get(name);
      return document === undefined ? undefined : { document };
    },
    async createPolicy(name, document) {
      if (policies.has(name)) return 'exists';
      log('CreatePolicy', { policyName: name, policyDocument: document });
      policies.set(name, document);
      return 'created';
    },
    async setPolicyDocument(name, document) {
      log('CreatePolicyVersion', { policyName: name, policyDocument: document, setAsDefault: true });
      policies.set(name, document);
    },
    async attachPolicy(name, target) {
      log('AttachPolicy', { policyName: name, target });
      attached.set(name, (attached.get(name) ?? new Set()).add(target));
    },
    async detachPolicy(name, target) {
      log('DetachPolicy', { policyName: name, target });
      attached.get(name)?.delete(target);
    },
    async thingGroupExists(name) {
      return groups.has(name);
    },
    async createThingGroup(name) {
      log('CreateThingGroup', { thingGroupName: name });
      if (!groups.has(name)) groups.set(name, new Set());
    },
    async addThingToGroup(group, thingName) {
      log('AddThingToThingGroup', { thingGroupName: group, thingName });
      groups.get(group)?.add(thingName);
    },
    async removeThingFromGroup(group, thingName) {
      log('RemoveThingFromThingGroup', { thingGroupName: group, thingName });
      groups.get(group)?.delete(thingName);
    },
    async describeTemplate(name) {
      return templates.get(name);
    },
    async createTemplate({ name, body, roleArn, description }) {
      log('CreateProvisioningTemplate', {
        templateName: name,
        type: 'JITP',
        provisioningRoleArn: roleArn,
        description,
      });
      templates.set(name, { body, roleArn });
    },
    async setTemplateBody(name, body) {
      log('CreateProvisioningTemplateVersion', { templateName: name, setAsDefault: true });
      templates.set(name, { ...templates.get(name)!, body });
    },
  };
}

/** A dry-run device shadow writer: each UpdateThingShadow the sync would make is logged. */
export function dryRunIotShadows(say: (line: string) => void): IotShadows {
  return {
    async updateDesired(thingName, shadowName, desired) {
      const detail = { thingName, ...(shadowName ? { shadowName } : {}), payload: { state: { desired } } };
      say(`[iot dry-run] UpdateThingShadow ${JSON.stringify(detail)}`);
    },
  };
}

/** The dry run of CA registration: a fixed registration code; a CA is named by its fingerprint, as AWS IoT does. */
export function dryRunIotCa(say: (line: string) => void): IotCaRegistry & { cas: Map<string, string> } {
  const cas = new Map<string, string>();
  const log = (call: string, detail: unknown) => say(`[iot dry-run] ${call} ${JSON.stringify(detail)}`);
  return {
    cas,
    async registrationCode() {
      return 'dry-run-registration-code';
    },
    async registerCa({ caPem, mode, active, autoRegistration, templateName }) {
      const id = new X509Certificate(caPem).fingerprint256.replace(/:/g, '').toLowerCase();
      log('RegisterCACertificate', { certificateId: id, mode, setAsActive: active, autoRegistration, templateName });
      if (cas.has(id)) throw new IotCaExistsError();
      cas.set(id, mode);
      return { id, arn: `arn:aws:iot:eu-west-1:000000000000:cacert/${id}` };
    },
  };
}
