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
  /** The named shadow to write (the deployment's default); undefined: the classic (unnamed) shadow. */
  shadowName?: string;
}

/** What the shadow last received: the identity actions' key ('' or undefined: nothing) and where it went. */
export interface ShadowWritten {
  actions?: string;
  /** The named shadow it went to; undefined: the classic shadow. */
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
     * Brings the shadow's identity actions to the device's, in the shadow its DMS names (`dmsShadow`: a
     * name, null for the classic shadow, undefined for the deployment's). `written` is what a shadow last
     * received. When the shadow changed (the DMS's setting, or the device moved DMS), the old one's
     * request is cleared and the new one gets the device's. Returns what is held now and where.
     */
    async sync(
      thingName: string,
      device: Device,
      written: ShadowWritten,
      dmsShadow?: string | null,
    ): Promise<ShadowOutcome> {
      const renewing = device.identity !== undefined && RENEWING.has(device.identity.status);
      const windows = renewing ? await windowsOf(device.dms_owner) : { preventiveMs: 0, criticalMs: 0 };
      const goal = identityActionsOf(device, windows);
      let before = written.actions ?? '';
      // 'keep' (EXPIRED) leaves the request where the device may still read it, in the shadow it went to.
      if (goal === 'keep') return { actions: before, shadowName: written.shadowName, outcome: 'unchanged' };
      const target = dmsShadow === undefined ? settings.shadowName : (dmsShadow ?? undefined);
      if (before !== '' && written.shadowName !== target) {
        await shadows.updateDesired(thingName, written.shadowName, { identity_actions: null });
        before = '';
      }
      const key = identityActionsKey(goal);
      if (key === before) return { actions: before, shadowName: target, outcome: 'unchanged' };
      await shadows.updateDesired(thingName, target, { identity_actions: goal });
      return { actions: key, shadowName: target, outcome: goal === null ? 'cleared' : 'requested' };
    },
  };
}

export interface ShadowOutcome {
  /** What the shadow holds now (identityActionsKey). */
  actions: string;
  /** The named shadow that holds it; undefined: the classic shadow. */
  shadowName: string | undefined;
  outcome: 'requested' | 'cleared' | 'unchanged';
}
