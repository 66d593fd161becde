/**
 * A dry-run AWS IoT registry for the local service: things and certificate statuses live in memory,
 * and every call that would change AWS IoT is logged instead. Certificates are treated as registered
 * (so the attach, revoke and detach the sync would do are shown). Set IOT_ENDPOINT to call a real
 * endpoint instead.
 */
import type { IotCertificateStatus, IotRegistry, IotThing } from '../functions/app/ports';

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
      return { id, status: certificates.get(id) ?? 'ACTIVE' };
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
