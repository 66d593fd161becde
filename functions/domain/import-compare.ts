/**
 * Re-running an import (pure): what an existing device lacks or holds differently from its row.
 * Only what the row sets is compared (a CSV without an `icon` column says nothing about icons);
 * tags compare as sets, metadata as JSON values (key order ignored).
 */
import type { DeviceRow, ShadowField } from './import-rows';
import { SHADOW_FIELDS } from './import-rows';

export interface Steps {
  bind: boolean;
  revoke: boolean;
  decommission: boolean;
}

/** The parts of a device (as the API returns it) that an import compares. */
export interface ExistingDevice {
  id: string;
  dms_owner: string;
  status: string;
  tags: string[];
  metadata: Record<string, unknown>;
  icon: string;
  icon_color: string;
  identity?: { status: string; active_version: number; secrets: Record<string, string> };
  version: number;
  /** When the device was created (a resumed server-side import counts the devices it created). */
  creation_timestamp?: string;
}

export interface Comparison {
  /** Fields holding other values than the row's; patchable ones go into `patch`. */
  differences: string[];
  /** JSON patch (RFC 6902) setting the differing shadow fields to the row's values. */
  patch: { op: 'replace'; path: string; value: unknown }[];
  /** Differences no update can mend (dms_owner, a decommissioned device). */
  fixed: string[];
  /** The identity certificate differs from the row's (a re-bind). */
  rebind: boolean;
  /**
   * Lifecycle steps the row asks for that overwrite nothing the device holds: bind an identity to a
   * device without one, revoke it, decommission (the state of an exported device). A resumed import
   * finishes them.
   */
  complete: Steps;
}

/** JSON equality with object key order ignored. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => sameJson(v, other[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

function sameField(field: ShadowField, wanted: unknown, device: ExistingDevice): boolean {
  if (field === 'tags') {
    const want = new Set(Array.isArray(wanted) ? wanted : []);
    const have = new Set(device.tags);
    return want.size === have.size && [...want].every((t) => have.has(t));
  }
  return sameJson(wanted, device[field]);
}

/**
 * Compares a row with the device of the same id. `serial` is the row certificate's serial
 * (lowercase hex, as the API keys it) when the row binds one.
 */
export function compareDevice(row: DeviceRow, serial: string | undefined, device: ExistingDevice): Comparison {
  const result: Comparison = {
    differences: [],
    patch: [],
    fixed: [],
    rebind: false,
    complete: { bind: false, revoke: false, decommission: false },
  };
  const decommissioned = device.status === 'DECOMMISSIONED';
  if (row.create.dms_id !== undefined && row.create.dms_id !== device.dms_owner) result.fixed.push('dms_owner');
  if (decommissioned && !row.decommissioned) result.fixed.push('status');
  for (const field of SHADOW_FIELDS) {
    if (!Object.hasOwn(row.create, field)) continue;
    const wanted = row.create[field];
    if (sameField(field, wanted, device)) continue;
    result.differences.push(field);
    result.patch.push({
      op: 'replace',
      path: `/${field}`,
      value: field === 'tags' && Array.isArray(wanted) ? [...new Set(wanted)] : wanted,
    });
  }
  if (serial !== undefined) {
    const identity = device.identity;
    const active = identity ? identity.secrets[String(identity.active_version)] : undefined;
    const revoked = identity?.status === 'REVOKED';
    if (active === undefined) result.complete.bind = !decommissioned;
    else if (active !== serial) {
      result.differences.push('identity');
      result.rebind = true;
    } else if (revoked && row.revoked === undefined && !row.decommissioned) result.fixed.push('identity.status');
    if (row.revoked !== undefined && !decommissioned && (result.complete.bind || result.rebind || !revoked))
      result.complete.revoke = true;
  }
  if (row.decommissioned && !decommissioned) result.complete.decommission = true;
  // A decommissioned device is read-only: what differs cannot be patched.
  if (decommissioned && result.differences.length > 0) {
    result.fixed.push(...result.differences);
    result.differences = [];
    result.patch = [];
    result.rebind = false;
  }
  result.differences.unshift(...result.fixed);
  return result;
}

/** True when the device already is what the row describes. */
export function isSame(comparison: Comparison): boolean {
  return comparison.differences.length === 0 && !Object.values(comparison.complete).some(Boolean);
}
