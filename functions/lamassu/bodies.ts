/**
 * Request bodies as Lamassu's SDK and RA send them (resources/devreq.go), translated into our use
 * case inputs. Go clients send `null` for empty slices and maps and `""` for unset strings; unknown
 * fields are ignored as Go's encoding/json does.
 */
import {
  array,
  enum as enumOf,
  literal,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
  type infer as Infer,
  type ZodType,
} from 'zod';

// Only the builders used: a `z` namespace import would bundle all of zod (see domain/schemas.ts).
const z = { array, enum: enumOf, literal, number, object, record, strictObject, string, union, unknown };
import { normaliseSerial, parseCertificate } from '../domain/certificate';
import type { Device, JsonValue, NewDeviceInput } from '../domain/device';
import { ValidationError, type FieldProblem } from '../domain/errors';
import type { Criterion } from '../domain/filters';
import type { GroupInput } from '../domain/groups';
import { createDeviceSchema, createGroupSchema, groupProblemsOf, problemsOf } from '../domain/schemas';
import type { SlotMaterial } from '../domain/slots';
import { orEmpty, translateCriterion } from './model';

const nullableString = z.string().nullish();

function parse<T extends ZodType>(schema: T, body: unknown, what: string): Infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ValidationError(`invalid ${what}`, problemsOf(parsed.error));
  return parsed.data;
}

const createBody = z.object({
  id: z.string(),
  alias: nullableString,
  tags: z.array(z.string()).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  dms_id: z.string(),
  icon: nullableString,
  icon_color: nullableString,
});

/**
 * CreateDeviceBody → our registration. `alias` is accepted and not stored: Lamassu's Device model
 * has no alias field either (its RA sends the CSR common name, which is the id).
 */
export function newDeviceOf(body: unknown): NewDeviceInput {
  const b = parse(createBody, body, 'device');
  const input = {
    id: b.id,
    dms_id: b.dms_id,
    tags: orEmpty(b.tags, []),
    metadata: orEmpty(b.metadata, {}),
    ...(b.icon ? { icon: b.icon } : {}),
    ...(b.icon_color ? { icon_color: b.icon_color } : {}),
  };
  const checked = createDeviceSchema.safeParse(input);
  if (!checked.success) throw new ValidationError('invalid device', problemsOf(checked.error));
  return { ...checked.data, metadata: checked.data.metadata as Record<string, JsonValue> | undefined };
}

const patchBody = z.object({
  patches: z
    .array(
      z.object({
        op: z.enum(['add', 'remove', 'replace']),
        path: z.string().regex(/^(\/.*)?$/, 'must be a JSON pointer ("" or starting with /)'),
        value: z.unknown().optional(),
      }),
    )
    .nullish(),
});

/** UpdateDeviceMetadataBody → a JSON patch (RFC 6902) of our shadow, rooted at `/metadata`. */
export function metadataPatchOf(body: unknown): { op: string; path: string; value?: unknown }[] {
  const b = parse(patchBody, body, 'metadata patch');
  return orEmpty(b.patches, []).map((p) => ({
    op: p.op,
    path: `/metadata${p.path}`,
    ...(p.op === 'remove' ? {} : { value: p.value ?? null }),
  }));
}

const slotBody = z.object({
  status: nullableString,
  active_version: z.number().int().min(0),
  type: nullableString,
  versions: z.record(z.string(), z.string()).nullish(),
  expiration_date: nullableString,
  events: z.record(z.string(), z.object({ type: z.string().nullish() }).passthrough()).nullish(),
  /** Our extension: the PEM of the active version, when the caller has it. */
  certificate: nullableString,
});

export type IdentityChange = { kind: 'none' } | { kind: 'revoke' } | { kind: 'bind'; material: SlotMaterial };

/**
 * Lamassu's slot document → what to do to our identity slot. Our versions are numbered by us
 * (one per bound certificate), so the document's `active_version` only selects its serial.
 */
export function identityChangeOf(body: unknown, current: Device): IdentityChange {
  const b = parse(slotBody, body, 'identity slot');
  const problems: FieldProblem[] = [];
  if (b.type && b.type !== 'x509')
    problems.push({ field: 'type', problem: `the identity slot holds x509 certificates, not ${b.type}` });
  const raw = orEmpty(b.versions, {})[String(b.active_version)];
  const serial = raw === undefined ? '' : normaliseSerial(raw);
  if (raw === undefined)
    problems.push({ field: `versions.${b.active_version}`, problem: 'the active version names no certificate serial' });
  else if (serial === '' || !/^[0-9a-fA-F:\- ]+$/.test(raw))
    problems.push({ field: `versions.${b.active_version}`, problem: `'${raw}' is not a hex certificate serial` });
  const expiration = b.expiration_date ? Date.parse(b.expiration_date) : undefined;
  if (expiration !== undefined && Number.isNaN(expiration))
    problems.push({ field: 'expiration_date', problem: 'must be an RFC 3339 timestamp' });
  if (problems.length > 0) throw new ValidationError('invalid identity slot', problems);

  const identity = current.identity;
  if (identity && identity.secrets[String(identity.active_version)] === serial) {
    return b.status === 'REVOKED' && identity.status !== 'REVOKED' ? { kind: 'revoke' } : { kind: 'none' };
  }
  if (b.certificate) {
    const certificate = parseCertificate(b.certificate);
    if (certificate.serial_number !== serial)
      throw new ValidationError('invalid identity slot', [
        {
          field: 'certificate',
          problem: `its serial ${certificate.serial_number} is not versions.${b.active_version} (${raw})`,
        },
      ]);
    return { kind: 'bind', material: { type: 'x509', certificate } };
  }
  if (expiration === undefined)
    throw new ValidationError('invalid identity slot', [
      { field: 'expiration_date', problem: 'required when no certificate PEM is given' },
    ]);
  // The RA records RENEWED on re-enroll with the same key; no public key to compare here.
  const latest = Object.entries(orEmpty(b.events, {}))
    .sort(([a], [z2]) => Date.parse(a) - Date.parse(z2))
    .at(-1)?.[1];
  return {
    kind: 'bind',
    material: {
      type: 'x509',
      serial_number: serial,
      expiration_date: new Date(expiration).toISOString(),
      same_key: latest?.type === 'RENEWED',
    },
  };
}

const criterionBody = z.object({ field: z.string(), operand: z.string(), value: z.string() });
const groupBody = z.object({
  id: nullableString,
  name: z.string(),
  description: nullableString,
  parent_id: nullableString,
  criteria: z.array(criterionBody).nullish(),
});

/** Lamassu's criteria (long or short operand names) → ours; Lamassu refuses unknown fields here. */
function groupCriteriaOf(criteria: Infer<typeof criterionBody>[]): Criterion[] {
  return criteria.map((c, i) => {
    const t = translateCriterion(c.field, c.operand, c.value);
    const fail = (problem: string) => new ValidationError(problem, [{ field: `criteria[${i}]`, problem }]);
    if (t.kind === 'ignored') throw fail(`invalid filter field '${c.field}' at criteria index ${i}`);
    if (t.kind === 'invalid')
      throw fail(`invalid operand '${c.operand}' for field '${c.field}' at criteria index ${i}`);
    if (t.kind === 'jsonpath') throw fail(`JSONPath criteria are not supported in device groups (criteria index ${i})`);
    return t.criterion;
  });
}

/** CreateDeviceGroupBody / UpdateDeviceGroupBody → our group input (checked by our schema). */
export function groupInputOf(body: unknown, withId: boolean): GroupInput & { id?: string } {
  const b = parse(groupBody, body, 'device group');
  const input = {
    ...(withId && b.id ? { id: b.id } : {}),
    name: b.name,
    ...(b.description ? { description: b.description } : {}),
    parent_id: b.parent_id || null,
    criteria: groupCriteriaOf(orEmpty(b.criteria, [])),
  };
  const checked = createGroupSchema.safeParse(input);
  if (!checked.success) throw new ValidationError('invalid device group', groupProblemsOf(checked.error));
  return checked.data;
}
