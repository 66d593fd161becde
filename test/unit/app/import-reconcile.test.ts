/**
 * The row reconcile both imports share (functions/app/import-reconcile.ts), over a scripted port: each
 * outcome and report line, the If-Match versions sent, and the re-reads when the device moves.
 */
import {
  type Answer,
  completeCreated,
  RECONCILE_ROUNDS,
  type Refused,
  reconcileRow,
  refusalOf,
  type RowDevices,
} from '../../../functions/app/import-reconcile';
import type { ExistingDevice } from '../../../functions/domain/import-compare';
import type { DeviceRow } from '../../../functions/domain/import-rows';

const device = (over: Partial<ExistingDevice> = {}): ExistingDevice => ({
  id: 'd1',
  dms_owner: 'dms-1',
  status: 'NO_IDENTITY',
  tags: ['a'],
  metadata: {},
  icon: 'chip',
  icon_color: '#112233',
  version: 3,
  ...over,
});
const row = (create: Record<string, unknown>, extra: Partial<DeviceRow> = {}): DeviceRow => ({
  line: 7,
  id: 'd1',
  create: { id: 'd1', dms_id: 'dms-1', ...create },
  ...extra,
});
const refused = (status: number, code: string, err: string): Refused => ({ ok: false, status, code, err });
const ok = <T>(value: T): Answer<T> => ({ ok: true, value });

/** A port whose answers are scripted per operation; every call is recorded with its If-Match. */
function scripted(answers: Partial<Record<keyof RowDevices, Answer<unknown>[]>>) {
  const calls: string[] = [];
  const next = (op: keyof RowDevices, detail: string) => {
    calls.push(`${op} ${detail}`);
    const answer = answers[op]?.shift();
    if (!answer) throw new Error(`unexpected ${op}`);
    return Promise.resolve(answer);
  };
  const port = {
    get: (id: string) => next('get', id),
    patch: (id: string, patch: unknown, ifMatch: number) => next('patch', `${JSON.stringify(patch)} @${ifMatch}`),
    bind: (id: string, _pem: string, ifMatch?: number) => next('bind', `@${ifMatch}`),
    revoke: (id: string, reason: string, ifMatch?: number) => next('revoke', `${reason} @${ifMatch}`),
    decommission: (id: string, ifMatch?: number) => next('decommission', `@${ifMatch}`),
  } as RowDevices;
  return { port, calls };
}

const options = { update: false, updateHint: '--update', ours: () => false };

describe('refusalOf', () => {
  it.each([
    [409, 'conflict'],
    [400, 'invalid'],
    [422, 'invalid'],
    [404, 'failed'],
    [412, 'failed'],
    [500, 'failed'],
  ])('an answer %i is %s, with the prefix and the API fields', (status, outcome) => {
    const line = refusalOf({ line: 2, id: 'x' }, { ...refused(status, 'CODE', 'said'), details: [] }, 'step: ');
    expect(line).toEqual({ line: 2, id: 'x', outcome, status, code: 'CODE', err: 'step: said', details: [] });
  });
});

describe('reconcileRow', () => {
  it('is unchanged when the device is what the row says, created when the caller made it', async () => {
    const { port, calls } = scripted({});
    expect(await reconcileRow(port, row({ tags: ['a'] }), undefined, options, device())).toEqual({
      line: 7,
      id: 'd1',
      outcome: 'unchanged',
    });
    const ours = { ...options, ours: (d: ExistingDevice) => d.version === 3 };
    expect((await reconcileRow(port, row({}), undefined, ours, device())).outcome).toBe('created');
    expect(calls).toEqual([]);
  });

  it('reports a difference as a conflict naming the update option, and a fixed one without it', async () => {
    const { port } = scripted({ get: [ok(device()), ok(device({ dms_owner: 'other' }))] });
    expect(await reconcileRow(port, row({ tags: ['b'] }), undefined, options)).toEqual({
      line: 7,
      id: 'd1',
      outcome: 'conflict',
      status: 409,
      code: 'CONFLICT',
      err: 'device exists with other tags (--update patches it)',
      differences: ['tags'],
    });
    const fixed = await reconcileRow(port, row({ tags: ['b'] }), undefined, { ...options, update: true });
    expect(fixed.err).toBe('device exists with other dms_owner, tags');
  });

  it('patches under If-Match with update, and re-reads the device when it moved (412)', async () => {
    const moved = refused(412, 'PRECONDITION_FAILED', 'moved');
    const { port, calls } = scripted({
      get: [ok(device({ version: 4 }))],
      patch: [moved, ok(5)],
      decommission: [ok(6)],
    });
    const result = await reconcileRow(
      port,
      row({ tags: ['b'] }, { decommissioned: true }),
      undefined,
      { ...options, update: true },
      device(),
    );
    expect(result).toEqual({ line: 7, id: 'd1', outcome: 'updated' });
    const patch = JSON.stringify([{ op: 'replace', path: '/tags', value: ['b'] }]);
    expect(calls).toEqual([`patch ${patch} @3`, 'get d1', `patch ${patch} @4`, 'decommission @5']);
  });

  it(`fails after ${RECONCILE_ROUNDS} rounds of a device that keeps moving`, async () => {
    const moved = refused(412, 'PRECONDITION_FAILED', 'moved');
    const { port, calls } = scripted({
      get: Array.from({ length: RECONCILE_ROUNDS }, (_, n) => ok(device({ version: 10 + n }))),
      patch: Array.from({ length: RECONCILE_ROUNDS }, () => moved),
    });
    const result = await reconcileRow(port, row({ tags: ['b'] }), undefined, { ...options, update: true });
    expect(result).toMatchObject({ outcome: 'failed', status: 412 });
    expect(calls.filter((c) => c.startsWith('patch'))).toHaveLength(RECONCILE_ROUNDS);
  });

  it('says why an unreadable device or certificate refuses the row', async () => {
    const { port } = scripted({ get: [refused(500, 'INTERNAL', 'boom')] });
    expect(await reconcileRow(port, row({}), undefined, options)).toMatchObject({
      outcome: 'failed',
      err: 'existing device not readable: boom',
    });
    const unreadable = await reconcileRow(port, row({}), { pem: 'not a pem' }, options, device());
    expect(unreadable).toMatchObject({ outcome: 'invalid', err: 'certificate not readable' });
  });
});

describe('completeCreated', () => {
  it('binds, revokes and decommissions without If-Match, and names the step a refusal stopped', async () => {
    const { port, calls } = scripted({ bind: [ok(2)], revoke: [refused(400, 'VALIDATION_ERROR', 'bad reason')] });
    const result = await completeCreated(
      port,
      row({}, { revoked: 'nope', decommissioned: true }),
      { pem: 'PEM', serial: 'aa' },
      1,
    );
    expect(result).toMatchObject({ outcome: 'invalid', status: 400, err: 'identity not revoked: bad reason' });
    expect(calls).toEqual(['bind @undefined', 'revoke nope @undefined']);
    const done = scripted({});
    expect(await completeCreated(done.port, row({}), undefined, 1)).toEqual({ line: 7, id: 'd1', outcome: 'created' });
  });
});
