/**
 * The changes of the device actions a client asks for one device at a time (revoke, decommission,
 * shadow patch) and a remediation job applies to many (app/jobs.ts): computed from the current device,
 * saved by device-changes.ts's one write path.
 */
import type { DeviceShadow } from '../domain/device';
import { shadowOf } from '../domain/device';
import { SlotNotFoundError } from '../domain/errors';
import { deviceUpdated } from '../domain/outbox';
import { decommissionDevice, IDENTITY_SLOT, type RevocationReason, revokeSlot, slotOf } from '../domain/slots';
import type { Change, DeviceChanges } from './device-changes';
import type { IdGenerator } from './ports';

export type DeviceActions = ReturnType<typeof deviceActions>;

export function deviceActions(changes: DeviceChanges, newId: IdGenerator) {
  const { record, withPolicy, activeVersion } = changes;
  return {
    /** Revokes the active version of a slot; a revoked slot is left unchanged. */
    revoke:
      (slot: string, reason: RevocationReason): Change =>
      async (current, now) => {
        const existing = slotOf(current, slot);
        if (!existing) throw new SlotNotFoundError(current.id, slot);
        const active = await activeVersion(current, slot);
        return withPolicy(current, (windows) =>
          revokeSlot({ device: current, slot, reason, active, policy: windows, now, ids: newId }),
        );
      },

    /** Decommission: terminal; revokes the active identity; a decommissioned device is left unchanged. */
    decommission: (): Change => async (current, now) => {
      if (current.status === 'DECOMMISSIONED') return undefined;
      const active = await activeVersion(current, IDENTITY_SLOT);
      return withPolicy(current, (windows) => decommissionDevice(current, active, windows, now, newId));
    },

    /** A PATCH of the shadow (tags, metadata, icon, icon_color); a patch that changes nothing changes nothing. */
    patch:
      (mediaType: string, patch: unknown): Change =>
      async (current, now) => {
        // Loaded on first use: the patch rules bring the request schemas (zod) and fast-json-patch,
        // which a function that never patches should not load at its cold start.
        const { applyShadowPatch } = await import('../domain/patch');
        const shadow: DeviceShadow = applyShadowPatch(shadowOf(current), mediaType, patch);
        if (JSON.stringify(shadow) === JSON.stringify(shadowOf(current))) return undefined;
        const { after, events, time } = record(current, { ...current, ...shadow }, now, [
          { type: 'SHADOW-UPDATED', description: `Updated ${changedFields(shadowOf(current), shadow).join(', ')}` },
        ]);
        return { after, events, outbox: [deviceUpdated(newId(), current, after, time)] };
      },
  };
}

function changedFields(before: DeviceShadow, after: DeviceShadow): string[] {
  return (Object.keys(after) as (keyof DeviceShadow)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
}
