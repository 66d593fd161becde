/** A device's slots (docs/api.md, Endpoints): bind a certificate or secret, revoke it, read a stored version. */
import type { Device } from '../domain/device';
import { SlotNotFoundError } from '../domain/errors';
import { bindSlot, type RevocationReason, type SlotMaterial, type SlotVersion } from '../domain/slots';
import { deviceActions } from './device-actions';
import type { DeviceChanges } from './device-changes';
import type { IdGenerator, SlotVersionStore } from './ports';

export function deviceSlots(
  changes: DeviceChanges,
  { devices, newId }: { devices: Pick<SlotVersionStore, 'getSlotVersion'>; newId: IdGenerator },
) {
  const { load, mutate, withPolicy, activeVersion } = changes;
  const actions = deviceActions(changes, newId);
  return {
    /** Binds a certificate or secret to the identity slot or an extra slot. */
    async bind(id: string, slot: string, material: SlotMaterial, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, async (current, now) => {
        const previous = await activeVersion(current, slot);
        return withPolicy(current, (windows) =>
          bindSlot({ device: current, slot, material, previous, policy: windows, now, ids: newId }),
        );
      });
      return device;
    },

    /** Revokes the active version of a slot; revoking a revoked slot returns the device unchanged. */
    async revoke(id: string, slot: string, reason: RevocationReason, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, actions.revoke(slot, reason));
      return device;
    },

    async slotVersion(id: string, slot: string, version: number): Promise<SlotVersion> {
      await load(id);
      const stored = await devices.getSlotVersion(id, slot, version);
      if (!stored) throw new SlotNotFoundError(id, slot, version);
      return stored;
    },
  };
}
