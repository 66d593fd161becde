/**
 * Why a device has its status, in words: which certificate, which boundary of its DMS's renewal
 * policy, and when the next transition is due. The rules are the service's own (functions/domain/status).
 */
import { clockOf, nextSlotChange, slotStatusAt, windowsOf } from '../../functions/domain/status';
import type { Device, DmsPolicy, SlotVersion } from './types';
import { relative, statusLabel, when } from './ui';

export interface StatusReason {
  text: string;
  next?: string;
}

export function statusReason(
  device: Device,
  policy: DmsPolicy | undefined,
  active: SlotVersion | undefined,
  now: number,
): StatusReason {
  if (device.status === 'DECOMMISSIONED') {
    const at = Object.entries(device.events).find(([, e]) => e.type === 'DECOMMISSIONED')?.[0];
    return { text: `Decommissioned${at ? ` on ${when(at)}` : ''}: terminal; the device is kept for audit.` };
  }
  const identity = device.identity;
  if (!identity) return { text: 'No identity certificate is bound yet.' };
  const cert =
    `Identity certificate ` +
    `version ${identity.active_version}${active?.serial_number ? ` (serial ${active.serial_number})` : ''}`;
  if (identity.status === 'REVOKED') {
    return {
      text:
        `${cert} was revoked${active?.revocation_reason ? ` (reason ${active.revocation_reason})` : ''}` +
        `${active?.revoked_at ? ` on ${when(active.revoked_at)}` : ''}. ` +
        `Bind a new certificate to return to service.`,
    };
  }
  if (!identity.expiration_date) return { text: `${cert} has no expiry.` };
  const settings = policy?.settings ?? { preventive_delta: '60d', critical_delta: '14d' };
  const source = policy && policy.version > 0 ? `policy of DMS ${policy.id}` : 'deployment defaults';
  const windows = windowsOf(settings);
  const e = Date.parse(identity.expiration_date);
  const renewal = e - windows.preventiveMs;
  const critical = e - windows.criticalMs;
  const clock = clockOf(identity);
  const texts: Record<string, string> = {
    ACTIVE:
      `${cert} is valid until ${when(e)}; renewal is due from ${when(renewal)} ` +
      `(${settings.preventive_delta} before expiry, ${source}).`,
    RENEWAL_PENDING:
      `${cert} entered its renewal window on ${when(renewal)} (${settings.preventive_delta} ` +
      `before its expiry on ${when(e)}, ${source}).`,
    EXPIRING_SOON:
      `${cert} passed the critical boundary on ${when(critical)} ` +
      `(${settings.critical_delta} before its expiry on ${when(e)}, ` +
      `${source}).`,
    EXPIRED: `${cert} expired on ${when(e)}.`,
  };
  const computed = slotStatusAt(clock, windows, now);
  let text = texts[computed] ?? `${cert}: ${statusLabel(computed)}.`;
  if (computed !== device.status)
    text += ` The stored status (${statusLabel(device.status)}) catches up at the next sweep.`;
  const next = nextSlotChange(clock, windows, now);
  return {
    text,
    next:
      next === undefined
        ? undefined
        : `Next: ${statusLabel(slotStatusAt(clock, windows, next))} on ${when(next)} (${relative(next, now)}).`,
  };
}
