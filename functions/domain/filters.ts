/**
 * The device filter language (docs/api.md, Filters and sort), shared by `GET /devices` query filters and group
 * criteria.
 * Pure: parsing returns problems instead of throwing so callers can name the offending parameter.
 */
import { DEVICE_STATUSES, type Device, type DeviceStatus, type JsonValue } from './device';
import type { FieldProblem } from './errors';
import { INVENTORY_DIMENSIONS, type InventoryDimension, inventoryValue } from './inventory';

export const STRING_FIELDS = ['id', 'dms_owner', 'icon'] as const;
export const DATE_FIELDS = ['creation_timestamp', 'identity.expiration_date'] as const;
export const STRING_OPS = [
  'eq',
  'ne',
  'ct',
  'nc',
  'in',
  'nin',
  'eq_ic',
  'ne_ic',
  'ct_ic',
  'nc_ic',
  'in_ic',
  'nin_ic',
] as const;
export const STATUS_OPS = ['eq', 'ne', 'in'] as const;
export const TAG_OPS = ['ct', 'ct_ic'] as const;
export const DATE_OPS = ['bf', 'af', 'eq'] as const;
/** Certificate inventory fields of the identity's certificate in service (docs/api.md, Certificate inventory). */
export const CRYPTO_FIELDS = INVENTORY_DIMENSIONS.map((d) => `identity.${d}` as const);
export const CRYPTO_OPS = ['eq', 'ne', 'in', 'nin'] as const;
export const METADATA_OPS = ['eq', 'ne', 'ct', 'gt', 'ge', 'lt', 'le', 'exists', 'in'] as const;

/** A criterion as written by a client: `filter=<field>[<operand>]<value>` or a group criterion object. */
export interface Criterion {
  field: string;
  operand: string;
  value: string;
}

export type Filter =
  | { kind: 'string'; field: (typeof STRING_FIELDS)[number]; op: (typeof STRING_OPS)[number]; values: string[] }
  | { kind: 'status'; field: 'status'; op: (typeof STATUS_OPS)[number]; values: string[] }
  | { kind: 'tags'; field: 'tags'; op: (typeof TAG_OPS)[number]; value: string }
  | { kind: 'date'; field: (typeof DATE_FIELDS)[number]; op: (typeof DATE_OPS)[number]; at: number }
  | {
      kind: 'crypto';
      field: (typeof CRYPTO_FIELDS)[number];
      dimension: InventoryDimension;
      op: (typeof CRYPTO_OPS)[number];
      values: string[];
    }
  | {
      kind: 'metadata';
      field: string;
      path: string[];
      op: (typeof METADATA_OPS)[number];
      raw: string;
      json: JsonValue | undefined;
    };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function includes<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** Parses the `filter` query parameter syntax `field[op]value`. */
export function splitFilterParam(param: string): Criterion | undefined {
  const match = /^([^[\]]+)\[([^[\]]+)\]([\s\S]*)$/.exec(param);
  if (!match) return undefined;
  return { field: match[1]!, operand: match[2]!, value: match[3]! };
}

/**
 * Validates one criterion and compiles it. `where` names it in problems (e.g. `filter[2]` or
 * `criteria[0]`).
 */
export function compileCriterion(c: Criterion, where: string): { filter?: Filter; problem?: FieldProblem } {
  const fail = (problem: string) => ({ problem: { field: where, problem } });
  const { field, operand: op, value } = c;
  if (value.length === 0 && op !== 'exists') return fail(`empty value for ${field}[${op}]`);
  if (includes(STRING_FIELDS, field)) {
    if (!includes(STRING_OPS, op)) return fail(`unknown operator '${op}' for field '${field}'`);
    const values = op.startsWith('in') || op.startsWith('nin') ? value.split(',') : [value];
    return { filter: { kind: 'string', field, op, values } };
  }
  if (field === 'status') {
    if (!includes(STATUS_OPS, op)) return fail(`unknown operator '${op}' for field 'status'`);
    const values = op === 'in' ? value.split(',') : [value];
    const bad = values.find((v) => !includes(DEVICE_STATUSES, v));
    if (bad !== undefined) return fail(`'${bad}' is not a device status (${DEVICE_STATUSES.join(', ')})`);
    return { filter: { kind: 'status', field, op, values } };
  }
  if (field === 'tags') {
    if (!includes(TAG_OPS, op)) return fail(`unknown operator '${op}' for field 'tags'`);
    return { filter: { kind: 'tags', field, op, value } };
  }
  if (includes(DATE_FIELDS, field)) {
    if (!includes(DATE_OPS, op)) return fail(`unknown operator '${op}' for field '${field}'`);
    const at = Date.parse(value);
    if (!RFC3339.test(value) || Number.isNaN(at)) return fail(`'${value}' is not an RFC 3339 timestamp`);
    return { filter: { kind: 'date', field, op, at } };
  }
  if (includes(CRYPTO_FIELDS, field)) {
    if (!includes(CRYPTO_OPS, op)) return fail(`unknown operator '${op}' for field '${field}'`);
    const values = op === 'in' || op === 'nin' ? value.split(',') : [value];
    const dimension = field.slice('identity.'.length) as InventoryDimension;
    return { filter: { kind: 'crypto', field, dimension, op, values } };
  }
  if (field.startsWith('metadata.')) {
    const path = field.slice('metadata.'.length).split('.');
    if (path.some((p) => p.length === 0)) return fail(`'${field}' is not a valid metadata path`);
    if (!includes(METADATA_OPS, op)) return fail(`unknown operator '${op}' for field '${field}'`);
    if (op === 'exists' && value !== 'true' && value !== 'false')
      return fail(`exists takes true or false, not '${value}'`);
    if (['gt', 'ge', 'lt', 'le'].includes(op) && value.length === 0) return fail(`empty value for ${field}[${op}]`);
    return { filter: { kind: 'metadata', field, path, op, raw: value, json: parseJson(value) } };
  }
  return fail(`unknown field '${field}'`);
}

function parseJson(value: string): JsonValue | undefined {
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    return undefined;
  }
}

/** Compiles many criteria, collecting every problem. */
export function compileCriteria(
  criteria: Criterion[],
  where: (index: number) => string,
): { filters: Filter[]; problems: FieldProblem[] } {
  const filters: Filter[] = [];
  const problems: FieldProblem[] = [];
  criteria.forEach((c, i) => {
    const r = compileCriterion(c, where(i));
    if (r.filter) filters.push(r.filter);
    if (r.problem) problems.push(r.problem);
  });
  return { filters, problems };
}

function stringMatches(op: string, actual: string, values: string[]): boolean {
  const ic = op.endsWith('_ic');
  const a = ic ? actual.toLowerCase() : actual;
  const vs = ic ? values.map((v) => v.toLowerCase()) : values;
  const v = vs[0]!;
  switch (op.replace(/_ic$/, '')) {
    case 'eq':
      return a === v;
    case 'ne':
      return a !== v;
    case 'ct':
      return a.includes(v);
    case 'nc':
      return !a.includes(v);
    case 'in':
      return vs.includes(a);
    case 'nin':
      return !vs.includes(a);
    default:
      return false;
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/**
 * The value at a metadata path, or undefined. Only the document's own keys count: `toString`,
 * `__proto__` or `constructor` are plain keys, never members inherited from Object.prototype.
 */
export function metadataAt(metadata: Record<string, JsonValue>, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = metadata;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function valueEquals(actual: JsonValue, f: Extract<Filter, { kind: 'metadata' }>): boolean {
  if (typeof actual === 'string') return actual === f.raw || (typeof f.json === 'string' && actual === f.json);
  return f.json !== undefined && deepEqual(actual, f.json);
}

function compare(actual: JsonValue, f: Extract<Filter, { kind: 'metadata' }>): number | undefined {
  // Numbers compare as numbers; strings (ISO dates included) compare lexicographically.
  if (typeof actual === 'number' && typeof f.json === 'number') return actual - f.json;
  if (typeof actual === 'string') return actual < f.raw ? -1 : actual > f.raw ? 1 : 0;
  return undefined;
}

function metadataMatches(device: Device, f: Extract<Filter, { kind: 'metadata' }>): boolean {
  const actual = metadataAt(device.metadata, f.path);
  if (f.op === 'exists') return (actual !== undefined) === (f.raw === 'true');
  if (actual === undefined) return f.op === 'ne';
  switch (f.op) {
    case 'eq':
      return valueEquals(actual, f);
    case 'ne':
      return !valueEquals(actual, f);
    case 'in':
      // Comma-separated values, each compared like eq.
      return f.raw.split(',').some((raw) => valueEquals(actual, { ...f, raw, json: parseJson(raw) }));
    case 'ct':
      if (typeof actual === 'string') return actual.includes(f.raw);
      if (Array.isArray(actual)) return actual.some((el) => valueEquals(el, f));
      return false;
    default: {
      const c = compare(actual, f);
      if (c === undefined) return false;
      return f.op === 'gt' ? c > 0 : f.op === 'ge' ? c >= 0 : f.op === 'lt' ? c < 0 : c <= 0;
    }
  }
}

/** True when the device satisfies one filter. */
export function matchesFilter(device: Device, f: Filter): boolean {
  switch (f.kind) {
    case 'string':
      return stringMatches(f.op, device[f.field], f.values);
    case 'status':
      return f.op === 'ne' ? device.status !== f.values[0] : f.values.includes(device.status);
    case 'tags':
      return f.op === 'ct'
        ? device.tags.includes(f.value)
        : device.tags.some((t) => t.toLowerCase() === f.value.toLowerCase());
    case 'date': {
      const raw = f.field === 'creation_timestamp' ? device.creation_timestamp : device.identity?.expiration_date;
      if (raw === undefined) return false;
      const t = Date.parse(raw);
      return f.op === 'bf' ? t < f.at : f.op === 'af' ? t > f.at : t === f.at;
    }
    case 'metadata':
      return metadataMatches(device, f);
    case 'crypto': {
      // Only a certificate in service has these fields (the inventory counts no other): like a missing value.
      const actual = inventoryValue(device, 'identity', f.dimension);
      if (actual === undefined) return f.op === 'ne' || f.op === 'nin';
      return stringMatches(f.op, actual, f.values);
    }
  }
}

/** True when the device satisfies every filter (filters are ANDed). */
export function matchesAll(device: Device, filters: readonly Filter[]): boolean {
  return filters.every((f) => matchesFilter(device, f));
}

/**
 * The statuses that every `status` filter among `filters` admits (all seven when there is none):
 * lets statistics honour status criteria by masking a per-status distribution.
 */
export function statusesAllowed(filters: readonly Filter[]): DeviceStatus[] {
  return DEVICE_STATUSES.filter((status) =>
    filters.every((f) => f.kind !== 'status' || (f.op === 'ne' ? status !== f.values[0] : f.values.includes(status))),
  );
}
