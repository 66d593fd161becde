/**
 * A row of an import meeting its device (docs/cli.md, Re-running an import): the same outcome and report
 * line whether the command line's `import` asks the API over HTTP or the server-side import calls the use
 * cases. Both give this module their device operations as a `RowDevices` port that answers as the API would.
 */
import { compareDevice, type ExistingDevice, isSame, type Steps } from '../domain/import-compare';
import type { DeviceRow, FieldProblem, LineResult, Outcome } from '../domain/import-rows';

/** An error as the API answers it (functions/http/http-errors.ts). */
export interface Refused {
  ok: false;
  status: number;
  code?: string;
  err: string;
  details?: FieldProblem[];
}

/** The value of a request that succeeded, or the API's error. */
export type Answer<T> = { ok: true; value: T } | Refused;

/** A row's certificate: its PEM, and its serial as the API keys it (undefined when it does not parse). */
export interface RowCertificate {
  pem: string;
  serial?: string;
}

/**
 * The device operations a row needs, answered as the API would answer them: a change answers the
 * device's new version; `ifMatch` is the version the change is based on (412 when it moved).
 */
export interface RowDevices {
  get(id: string): Promise<Answer<ExistingDevice>>;
  patch(id: string, patch: { op: 'replace'; path: string; value: unknown }[], ifMatch: number): Promise<Answer<number>>;
  bind(id: string, pem: string, ifMatch?: number): Promise<Answer<number>>;
  revoke(id: string, reason: string, ifMatch?: number): Promise<Answer<number>>;
  decommission(id: string, ifMatch?: number): Promise<Answer<number>>;
}

/** How often a row re-reads its device when a concurrent writer moved its version (412). */
export const RECONCILE_ROUNDS = 5;

/**
 * The line of a row the API refused: 409 is a state the row cannot be applied in (a decommissioned
 * device); another 4xx refuses the row's content (`invalid`); 404/412 mean the device moved, and they
 * and anything else left after the retries are `failed`.
 */
export function refusalOf(row: Pick<DeviceRow, 'line' | 'id'>, answer: Refused, prefix = ''): LineResult {
  const { status } = answer;
  const outcome: Outcome =
    status === 409
      ? 'conflict'
      : status >= 400 && status < 500 && status !== 404 && status !== 412
        ? 'invalid'
        : 'failed';
  return {
    line: row.line,
    id: row.id,
    outcome,
    status,
    code: answer.code,
    err: `${prefix}${answer.err}`,
    ...(answer.details ? { details: answer.details } : {}),
  };
}

/** The lifecycle steps a row asks of a device it creates. */
export const stepsOf = (row: DeviceRow, cert: RowCertificate | undefined): Steps => ({
  bind: cert !== undefined,
  revoke: row.revoked !== undefined,
  decommission: row.decommissioned === true,
});

/**
 * The steps after a create or a patch, as the row asks: bind the certificate, revoke it, decommission.
 * `guard` sends If-Match (a reconcile); 'moved' means a concurrent writer changed the device (412).
 */
async function finish(
  devices: RowDevices,
  row: DeviceRow,
  cert: RowCertificate | undefined,
  version: number,
  steps: Steps,
  guard: boolean,
): Promise<LineResult | 'done' | 'moved'> {
  const id = row.id!;
  const step = async (what: string, run: (ifMatch?: number) => Promise<Answer<number>>) => {
    const answer = await run(guard ? version : undefined);
    if (answer.ok) {
      version = answer.value;
      return undefined;
    }
    return answer.status === 412 && guard ? ('moved' as const) : refusalOf(row, answer, `${what}: `);
  };
  const outcome =
    (steps.bind && cert
      ? await step('identity not bound', (ifMatch) => devices.bind(id, cert.pem, ifMatch))
      : undefined) ??
    (steps.revoke && row.revoked !== undefined
      ? await step('identity not revoked', (ifMatch) => devices.revoke(id, row.revoked!, ifMatch))
      : undefined) ??
    (steps.decommission ? await step('not decommissioned', (ifMatch) => devices.decommission(id, ifMatch)) : undefined);
  return outcome ?? 'done';
}

/** A device this import just created: the row's remaining steps; it is `created` unless a step is refused. */
export async function completeCreated(
  devices: RowDevices,
  row: DeviceRow,
  cert: RowCertificate | undefined,
  version: number,
): Promise<LineResult> {
  const done = await finish(devices, row, cert, version, stepsOf(row, cert), false);
  return done === 'done' || done === 'moved' ? { line: row.line, id: row.id, outcome: 'created' } : done;
}

export interface ReconcileOptions {
  /** Patch a device that differs from its row (under If-Match) instead of reporting a conflict. */
  update: boolean;
  /** How the caller names `update` in the conflict's message ("--update" on the command line). */
  updateHint: string;
  /** Whether a device found as the row describes it at the first read was created by this import. */
  ours: (device: ExistingDevice) => boolean;
}

/**
 * A row whose device exists (`known`, when already read): `unchanged` when it is what the row
 * says, else a `conflict` or, with `update`, patched and completed (`updated`), re-read while a
 * concurrent writer moves its version.
 */
export async function reconcileRow(
  devices: RowDevices,
  row: DeviceRow,
  cert: RowCertificate | undefined,
  { update, updateHint, ours }: ReconcileOptions,
  known?: ExistingDevice,
): Promise<LineResult> {
  const id = row.id!;
  for (let round = 0; round < RECONCILE_ROUNDS; round++) {
    let device = round === 0 ? known : undefined;
    if (!device) {
      const read = await devices.get(id);
      if (!read.ok) return refusalOf(row, read, 'existing device not readable: ');
      device = read.value;
    }
    if (cert && cert.serial === undefined)
      return {
        line: row.line,
        id,
        outcome: 'invalid',
        err: 'certificate not readable',
        details: [{ field: 'certificate', problem: 'not a PEM X.509 certificate' }],
      };
    const comparison = compareDevice(row, cert?.serial, device);
    if (isSame(comparison))
      return { line: row.line, id, outcome: round === 0 && ours(device) ? 'created' : 'unchanged' };
    if (comparison.fixed.length > 0 || (comparison.differences.length > 0 && !update))
      return {
        line: row.line,
        id,
        outcome: 'conflict',
        status: 409,
        code: 'CONFLICT',
        err:
          `device exists with ` +
          `other ${comparison.differences.join(', ')}${comparison.fixed.length > 0 ? '' : ` (${updateHint} patches it)`}`,
        differences: comparison.differences,
      };
    let version = device.version;
    if (comparison.patch.length > 0) {
      const patched = await devices.patch(id, comparison.patch, version);
      if (!patched.ok && patched.status === 412) continue;
      if (!patched.ok) return refusalOf(row, patched);
      version = patched.value;
    }
    const steps = { ...comparison.complete, bind: comparison.rebind || comparison.complete.bind };
    const done = await finish(devices, row, cert, version, steps, true);
    if (done === 'moved') continue;
    return done === 'done' ? { line: row.line, id, outcome: 'updated' } : done;
  }
  return {
    line: row.line,
    id,
    outcome: 'failed',
    status: 412,
    err: `the device kept changing under ${RECONCILE_ROUNDS} attempts`,
  };
}
