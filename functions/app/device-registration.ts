/** A device's record (docs/api.md, Endpoints): register, patch its shadow, decommission it. */
import { type Device, type NewDeviceInput, newDevice } from '../domain/device';
import { deviceCreated } from '../domain/outbox';
import { deviceActions } from './device-actions';
import type { DeviceChanges } from './device-changes';
import type { Clock, IdGenerator } from './ports';

export function deviceRegistration(changes: DeviceChanges, { clock, newId }: { clock: Clock; newId: IdGenerator }) {
  const { save, mutate } = changes;
  const actions = deviceActions(changes, newId);
  return {
    async register(input: NewDeviceInput): Promise<Device> {
      const now = clock.now();
      const { device, event } = newDevice(input, now);
      await save({ after: device, events: [event], outbox: [deviceCreated(newId(), device, event.timestamp)] });
      return device;
    },

    async patch(id: string, mediaType: string, patch: unknown, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, actions.patch(mediaType, patch));
      return device;
    },

    /** Decommission: terminal; revokes the active identity; idempotent. */
    async decommission(id: string, ifMatch?: number): Promise<Device> {
      const { device } = await mutate(id, ifMatch, actions.decommission());
      return device;
    },
  };
}
