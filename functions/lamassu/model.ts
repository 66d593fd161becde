/**
 * Lamassu's device manager wire model (lamassuiot/lamassuiot core/pkg/models/device.go and
 * resources/*) translated to and from ours. Pure functions: the handlers under
 * functions/lamassu/handlers call these and the existing use cases.
 */
import type { Device, JsonValue, Slot } from '../domain/device';
import type { Criterion } from '../domain/filters';
import type { GroupView } from '../domain/groups';
import { lifecycleOf } from '../domain/lifecycle';

/** Lamassu's `models.Slot`: the secrets map is named `versions`. */
export interface LamassuSlot {
  status: string;
  active_version: number;
  type: string;
  versions: Record<string, unknown>;
  expiration_date?: string;
  events: Record<string, { type: string; description: string }>;
}

/**
 * A serial as Lamassu writes it (`hex.EncodeToString(n.Bytes())`): whole bytes, so a leading zero
 * nibble is kept (`0a3f`), where our slots store `a3f`.
 */
export function lamassuSerial(serial: string): string {
  return serial.length % 2 === 1 ? `0${serial}` : serial;
}

export function toLamassuSlot(slot: Slot): LamassuSlot {
  const versions =
    slot.type === 'x509'
      ? Object.fromEntries(Object.entries(slot.secrets).map(([v, s]) => [v, lamassuSerial(s)]))
      : { ...slot.secrets };
  return {
    status: slot.status,
    active_version: slot.active_version,
    type: slot.type,
    versions,
    ...(slot.expiration_date ? { expiration_date: slot.expiration_date } : {}),
    events: slot.events,
  };
}

type LamassuEvents = Record<string, { type: string; description: string }>;

/**
 * The device's lifecycle (domain/lifecycle.ts) as Lamassu records it (backend/pkg/services/
 * devicemanager.go and dmsmanager.go): device events CREATED (no description), STATUS-UPDATED
 * (`Status updated from 'A' to 'B'`) and DECOMMISSIONED (no description, and no status change
 * besides it); identity slot events
 * PROVISIONED (no description), RENEWED and RE-PROVISIONED (`New Active Version set to N`, which
 * Lamassu's dashboard parses to link the certificate) and a revocation as the slot's STATUS-UPDATED
 * (`Identity Slot Status updated from '<device status>' to 'REVOKED'`). Slot events appear only in
 * the slot: Lamassu's dashboard merges both maps into one timeline.
 */
export function lamassuEventsOf(device: Device): { device: LamassuEvents; identity: LamassuEvents } {
  const out = { device: {} as LamassuEvents, identity: {} as LamassuEvents };
  let status = 'NO_IDENTITY';
  for (const e of lifecycleOf(device)) {
    if (e.slot === undefined) {
      const change = /^Status updated from '([A-Z_]+)' to '([A-Z_]+)'/.exec(e.description);
      if (e.type === 'STATUS-UPDATED' && change) {
        // Lamassu records a decommission as DECOMMISSIONED alone, never as a status change.
        if (change[2] !== 'DECOMMISSIONED')
          out.device[e.timestamp] = {
            type: e.type,
            description: `Status updated from '${change[1]}' to '${change[2]}'`,
          };
        status = change[2]!;
      } else if (e.type === 'CREATED' || e.type === 'DECOMMISSIONED')
        out.device[e.timestamp] = { type: e.type, description: '' };
      else out.device[e.timestamp] = { type: e.type, description: e.description };
      if (e.type === 'DECOMMISSIONED') status = 'DECOMMISSIONED';
      continue;
    }
    const version = /\(version (\d+)\)/.exec(e.description)?.[1];
    if (e.type === 'PROVISIONED') out.identity[e.timestamp] = { type: e.type, description: '' };
    else if ((e.type === 'RENEWED' || e.type === 'RE-PROVISIONED') && version !== undefined)
      out.identity[e.timestamp] = { type: e.type, description: `New Active Version set to ${version}` };
    else if (e.type === 'REVOKED')
      out.identity[e.timestamp] = {
        type: 'STATUS-UPDATED',
        description: `Identity Slot Status updated from '${status}' to 'REVOKED'`,
      };
    else out.identity[e.timestamp] = { type: e.type, description: e.description };
  }
  return out;
}

/** Lamassu's `models.Device` (no `version`: it travels as the ETag). */
export function toLamassuDevice(device: Device) {
  const events = lamassuEventsOf(device);
  return {
    id: device.id,
    tags: device.tags,
    status: device.status,
    icon: device.icon,
    icon_color: device.icon_color,
    creation_timestamp: device.creation_timestamp,
    metadata: device.metadata,
    dms_owner: device.dms_owner,
    ...(device.identity ? { identity: { ...toLamassuSlot(device.identity), events: events.identity } } : {}),
    slots: Object.fromEntries(Object.entries(device.slots).map(([name, slot]) => [name, toLamassuSlot(slot)])),
    events: events.device,
  };
}

export type LamassuDevice = ReturnType<typeof toLamassuDevice>;

/** Lamassu's error messages (core/pkg/errs/device.go). */
export const LAMASSU_ERRORS = {
  deviceNotFound: 'device not found',
  deviceAlreadyExists: 'device already exists',
  deviceInvalidStatus: 'device status does not allow this operation',
  groupNotFound: 'device group not found',
  groupAlreadyExists: 'device group already exists',
  groupCircularReference: 'circular parent reference detected',
} as const;

// Query fields and operands (resources.DeviceFilterableFields and ParseOperandName).

type FieldType = 'string' | 'array' | 'date' | 'enum' | 'json';

/** Lamassu's filterable device fields; any other field is ignored, as Lamassu does. */
const LAMASSU_DEVICE_FIELDS: Readonly<Record<string, FieldType>> = {
  id: 'string',
  dms_owner: 'string',
  creation_timestamp: 'date',
  status: 'enum',
  tags: 'array',
  metadata: 'json',
  identity_slot: 'json',
};

/** Long operand names (and the short ones) per field type, mapped to our operators (docs/api.md, Filters and sort). */
const OPERANDS: Readonly<Record<FieldType, Readonly<Record<string, string>>>> = {
  string: {
    eq: 'eq',
    equal: 'eq',
    eq_ic: 'eq_ic',
    equal_ignorecase: 'eq_ic',
    ne: 'ne',
    notequal: 'ne',
    ne_ic: 'ne_ic',
    notequal_ignorecase: 'ne_ic',
    ct: 'ct',
    contains: 'ct',
    ct_ic: 'ct_ic',
    contains_ignorecase: 'ct_ic',
    nc: 'nc',
    notcontains: 'nc',
    nc_ic: 'nc_ic',
    notcontains_ignorecase: 'nc_ic',
    in: 'in',
    in_ic: 'in_ic',
    nin: 'nin',
    nin_ic: 'nin_ic',
  },
  array: { ct: 'ct', contains: 'ct', ct_ic: 'ct_ic', contains_ignorecase: 'ct_ic' },
  date: { bf: 'bf', before: 'bf', eq: 'eq', equal: 'eq', af: 'af', after: 'af' },
  enum: { eq: 'eq', equal: 'eq', ne: 'ne', notequal: 'ne', in: 'in' },
  json: { jsonpath: 'jsonpath' },
};

/** Go's `%v` of Lamassu's FilterFieldType, kept in its error messages. */
const FIELD_TYPE_NUMBER: Readonly<Record<FieldType, number>> = { string: 0, array: 1, date: 2, enum: 4, json: 5 };

export type LamassuCriterion =
  | { kind: 'native'; criterion: Criterion }
  | { kind: 'jsonpath'; field: 'metadata' | 'identity_slot'; expression: string }
  | { kind: 'ignored' }
  | { kind: 'invalid'; message: string };

/**
 * Lamassu decodes a JSONPath filter once more (Go's url.QueryUnescape, `+` as space), so clients
 * may send it encoded twice; a value that does not decode is kept as it is, as there.
 */
function queryUnescape(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/** One Lamassu criterion (query filter or group criterion) in our filter language. */
export function translateCriterion(field: string, operand: string, value: string): LamassuCriterion {
  // Own keys only: `constructor`, `__proto__` or `toString` are unknown fields, not Object members.
  const type = Object.hasOwn(LAMASSU_DEVICE_FIELDS, field) ? LAMASSU_DEVICE_FIELDS[field] : undefined;
  if (!type) return { kind: 'ignored' };
  const operands = OPERANDS[type];
  const lower = operand.toLowerCase();
  const op = Object.hasOwn(operands, lower) ? operands[lower] : undefined;
  if (!op)
    return {
      kind: 'invalid',
      message: `invalid filter operand '${operand}' for field '${field}' of type ${FIELD_TYPE_NUMBER[type]}`,
    };
  if (type === 'json')
    return { kind: 'jsonpath', field: field as 'metadata' | 'identity_slot', expression: queryUnescape(value) };
  return { kind: 'native', criterion: { field, operand: op, value } };
}

/** Operand names as Lamassu's responses write them (FormatOperandName): tags use the long names. */
export function lamassuOperandOf(c: Criterion): Criterion {
  if (c.field !== 'tags') return c;
  return { ...c, operand: c.operand === 'ct_ic' ? 'contains_ignorecase' : 'contains' };
}

/** Lamassu's device group response (controllers.ConvertDeviceGroupToResponse). */
export function toLamassuGroup(group: GroupView) {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    criteria: group.criteria.map(lamassuOperandOf),
    inherited_criteria: group.inherited_criteria.map(lamassuOperandOf),
    created_at: group.created_at,
    updated_at: group.updated_at,
    ...(group.parent_id !== null ? { parent_id: group.parent_id } : {}),
  };
}

/** `null` maps and slices of Go clients are empty ones. */
export const orEmpty = <T>(value: T | null | undefined, empty: T): T =>
  value === null || value === undefined ? empty : value;

export type { JsonValue };
