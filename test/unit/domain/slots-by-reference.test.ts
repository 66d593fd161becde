/** Binding an x509 certificate known only by its serial and expiration (Lamassu's slot document). */
import { randomUUID } from 'node:crypto';
import { newDevice } from '../../../functions/domain/device';
import { UnprocessableError } from '../../../functions/domain/errors';
import { bindSlot } from '../../../functions/domain/slots';
import { windowsOf } from '../../../functions/domain/status';

const policy = windowsOf({ preventive_delta: '60d', critical_delta: '14d' });
const now = new Date('2026-03-15T10:00:00.000Z');
const ids = () => randomUUID();
const fresh = () => newDevice({ id: 'd1', dms_id: 'dms' }, now).device;
const material = (serial: string, expiration: string, same_key?: boolean) => ({
  type: 'x509' as const,
  serial_number: serial,
  expiration_date: expiration,
  ...(same_key === undefined ? {} : { same_key }),
});

it(
  'PROVISIONED: the serial is the secret, the version stores ' + 'it without a certificate, status from the expiration',
  () => {
    const m = bindSlot({
      device: fresh(),
      slot: 'identity',
      material: material('a1b2', '2027-03-15T10:00:00Z'),
      policy,
      now,
      ids,
    });
    expect(m.after).toMatchObject({
      status: 'ACTIVE',
      identity: {
        status: 'ACTIVE',
        active_version: 0,
        type: 'x509',
        secrets: { '0': 'a1b2' },
        expiration_date: '2027-03-15T10:00:00.000Z',
      },
    });
    expect(m.versions).toEqual([
      expect.objectContaining({
        version: 0,
        status: 'ACTIVE',
        serial_number: 'a1b2',
        expiration_date: '2027-03-15T10:00:00.000Z',
      }),
    ]);
    expect(m.versions[0]).not.toHaveProperty('certificate');
    expect(m.events.map((e) => e.type)).toEqual(['PROVISIONED', 'STATUS-UPDATED']);
  },
);

it(
  'RENEWED when the caller says the key was kept, RE-PROVISIONED ' + 'otherwise; the previous version is SUPERSEDED',
  () => {
    const first = bindSlot({
      device: fresh(),
      slot: 'identity',
      material: material('a1', '2027-03-15T10:00:00Z'),
      policy,
      now,
      ids,
    });
    const previous = first.versions[0]!;
    const renewed = bindSlot({
      device: first.after,
      slot: 'identity',
      material: material('a2', '2028-03-15T10:00:00Z', true),
      previous,
      policy,
      now,
      ids,
    });
    expect(renewed.events.map((e) => e.type)).toEqual(['RENEWED']);
    expect(renewed.versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'ACTIVE'],
      [0, 'SUPERSEDED'],
    ]);
    const other = bindSlot({
      device: first.after,
      slot: 'identity',
      material: material('a3', '2028-03-15T10:00:00Z'),
      previous,
      policy,
      now,
      ids,
    });
    expect(other.events.map((e) => e.type)).toEqual(['RE-PROVISIONED']);
  },
);

it('an expiration in the past is unprocessable, as for a certificate', () => {
  expect(() =>
    bindSlot({ device: fresh(), slot: 'identity', material: material('a1', '2026-03-01T00:00:00Z'), policy, now, ids }),
  ).toThrow(UnprocessableError);
});
