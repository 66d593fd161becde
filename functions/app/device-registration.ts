/** A device's record (docs/api.md, Endpoints): register, patch its shadow, decommission it. */
import { type Device, type DeviceShadow, type NewDeviceInput, newDevice, shadowOf } from '../domain/device';
import { deviceCreated, deviceUpdated } from '../domain/outbox';
import { decommissionDevice, IDENTITY_SLOT } from '../domain/slots';
import type { DeviceChanges } from './device-changes';
import type { Clock, IdGenerator } from './ports';

export function deviceRegistration(changes: DeviceChanges, { clock, newId }: { clock: Clock; newId: IdGenerator }) {
  const { save, saveNew, mutate, record, withPolicy, activeVersion } = changes;
  return {
    async register(input: NewDeviceInput): Promise<Device> {
      const now = clock.now();
      const { device, event } = newDevice(input, now);
      await save({ after: device, events: [event], outbox: [deviceCreated(newId(), device, event.timestamp)] });
      return device;
    },

    /**
     * Registers several devices with few round trips (a server-side import): the devices created, and
     * the ids refused (not written: an id that exists, or one sharing its transaction), each to be
     * registered alone to learn its fate.
     */
    async registerNew(inputs: readonly NewDeviceInput[]): Promise<{ created: Device[]; refused: string[] }> {
      const now = clock.now();
      const changes = inputs.map((input) => {
        const { device, event } = newDevice(input, now);
        return { after: device, events: [event], outbox: [deviceCreated(newId(), device, event.timestamp)] };
      });
      const { created, refused } = await saveNew(changes);
      const made = new Set(created);
      return { created: changes.filter((c) => made.has(c.after.id)).map((c) => c.after), refused };
    },

    async patch(id: string, mediaType: string, patch: unknown, ifMatch?: number): Promise<Device> {
      // Loaded on first use: the patch rules bring the request schemas (zod) and fast-json-patch,
      // which a function that never patches should not load at its cold start.
      const { applyShadowPatch } = await import('../domain/patch');
      const { device } = await mutate(id, ifMatch, (current, now) => {
        const shadow: DeviceShadow = applyShadowPatch(shadowOf(current), mediaType, patch);
        if (JSON.stringify(shadow) === JSON.stringify(shadowOf(current))) return undefined;
        const { after, events, time } = record(current, { ...current, ...shadow }, now, [
          { type: 'SHADOW-UPDATED', description: `Updated ${changedFields(shadowOf(current), shadow).join(', ')}` },
        ]);
        return { after, events, outbox: [deviceUpdated(newId(), current, after, time)] };
      });
      return device;
    },

    /** Decommission: terminal; revokes the active identity; idempotent. */
    async decommission(id: string, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, async (current, now) => {
        if (current.status === 'DECOMMISSIONED') return undefined;
        const active = await activeVersion(current, IDENTITY_SLOT);
        return withPolicy(current, (windows) => decommissionDevice(current, active, windows, now, newId));
      });
      return device;
    },
  };
}

function changedFields(before: DeviceShadow, after: DeviceShadow): string[] {
  return (Object.keys(after) as (keyof DeviceShadow)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
}
