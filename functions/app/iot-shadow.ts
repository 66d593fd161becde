/**
 * The device shadow part of the AWS IoT sync (docs/events.md, Device shadow: identity actions): writes
 * `desired.identity_actions` when the identity enters RENEWAL_PENDING or EXPIRING_SOON and clears it when a
 * renewal lands. Called by the sync with what it last wrote (its state), so a redelivery writes nothing.
 */
import type { Device } from '../domain/device';
import { identityActionsKey, identityActionsOf } from '../domain/identity-actions';
import type { RenewalWindows } from '../domain/status';
import type { IotShadows } from './ports';

export interface ShadowSettings {
  /** The named shadow to write; undefined: the classic (unnamed) shadow. */
  shadowName?: string;
}

export interface ShadowSyncDeps {
  shadows: IotShadows;
  settings: ShadowSettings;
  /** The renewal windows of a DMS (its policy, or the deployment defaults): the boundary's timestamp. */
  windowsOf: (dms: string) => Promise<RenewalWindows>;
}

/** Identity statuses whose actions depend on the DMS policy (the boundary crossed). */
const RENEWING = new Set(['RENEWAL_PENDING', 'EXPIRING_SOON']);

export type ShadowSync = ReturnType<typeof shadowSync>;

export function shadowSync({ shadows, settings, windowsOf }: ShadowSyncDeps) {
  return {
    /**
     * Brings the shadow's identity actions to the device's; `written` is what the shadow last received
     * ('' or undefined: nothing, or cleared). Returns what it holds now and whether a call was made.
     */
    async sync(thingName: string, device: Device, written: string | undefined): Promise<ShadowOutcome> {
      const renewing = device.identity !== undefined && RENEWING.has(device.identity.status);
      const windows = renewing ? await windowsOf(device.dms_owner) : { preventiveMs: 0, criticalMs: 0 };
      const goal = identityActionsOf(device, windows);
      const before = written ?? '';
      if (goal === 'keep') return { actions: before, outcome: 'unchanged' };
      const key = identityActionsKey(goal);
      if (key === before) return { actions: before, outcome: 'unchanged' };
      await shadows.updateDesired(thingName, settings.shadowName, { identity_actions: goal });
      return { actions: key, outcome: goal === null ? 'cleared' : 'requested' };
    },
  };
}

export interface ShadowOutcome {
  /** What the shadow holds now (identityActionsKey). */
  actions: string;
  outcome: 'requested' | 'cleared' | 'unchanged';
}
