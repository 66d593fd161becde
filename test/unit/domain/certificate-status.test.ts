/** A CA-reported certificate status applied to a device (pure): REVOKED, ACTIVE (hold released), EXPIRED. */
import { randomUUID } from 'node:crypto';
import { normaliseSerial, parseCertificate } from '../../../functions/domain/certificate';
import { type Device, newDevice } from '../../../functions/domain/device';
import {
  applyCertificateStatus,
  bindSlot,
  caRevocable,
  type CertificateStatusOutcome,
  decommissionDevice,
  revokeSlot,
  type SlotMutation,
  type SlotVersion,
} from '../../../functions/domain/slots';
import { windowsOf } from '../../../functions/domain/status';
import { certificate } from '../../support/certificates';

const policy = windowsOf({ preventive_delta: '60d', critical_delta: '14d' });
const now = new Date('2026-03-15T10:00:00.000Z');
const later = new Date('2026-03-16T10:00:00.000Z');
const ids = () => randomUUID();

async function bound(
  slot = 'identity',
  notAfter = '2027-03-15T10:00:00Z',
): Promise<{ device: Device; version: SlotVersion }> {
  const device = newDevice({ id: 'd1', dms_id: 'dms' }, now).device;
  const cert = parseCertificate((await certificate({ notAfter })).pem);
  const m = bindSlot({ device, slot, material: { type: 'x509', certificate: cert }, policy, now, ids });
  return { device: m.after, version: m.versions[0]! };
}
const mutationOf = (o: CertificateStatusOutcome): SlotMutation => {
  if (o.kind !== 'mutation') throw new Error(`expected a mutation, got ${JSON.stringify(o)}`);
  return o.mutation;
};

describe('serials', () => {
  it.each([
    ['3F:0A:01', '3f0a01'],
    ['3f-0a-01', '3f0a01'],
    ['00AB12', 'ab12'],
    ['0', '0'],
  ])('normalises %s to %s', (input, expected) => expect(normaliseSerial(input)).toBe(expected));
});

describe('REVOKED', () => {
  it('revokes the active identity version with the reported reason: events, outbox, version item', async () => {
    const { device, version } = await bound();
    const m = mutationOf(
      applyCertificateStatus({ device, version, status: 'REVOKED', reason: 'KeyCompromise', policy, now: later, ids }),
    );
    expect(m.after).toMatchObject({ status: 'REVOKED', identity: { status: 'REVOKED' } });
    expect(m.events.map((e) => e.type)).toEqual(['REVOKED', 'STATUS-UPDATED']);
    expect(m.outbox.map((o) => o.type)).toEqual(['device.identity.update', 'device.status.update']);
    expect(m.versions).toEqual([
      {
        ...version,
        status: 'REVOKED',
        revocation_reason: 'KeyCompromise',
        revoked_at: later.toISOString(),
        ca_reported_at: later.toISOString(),
      },
    ]);
  });

  it('defaults the reason to Unspecified and changes nothing the second time', async () => {
    const { device, version } = await bound();
    const m = mutationOf(applyCertificateStatus({ device, version, status: 'REVOKED', policy, now: later, ids }));
    expect(m.versions[0]!.revocation_reason).toBe('Unspecified');
    expect(
      applyCertificateStatus({ device: m.after, version: m.versions[0]!, status: 'REVOKED', policy, now: later, ids }),
    ).toMatchObject({ kind: 'none' });
  });

  it('only rewrites the version item of a superseded version', async () => {
    const { device, version } = await bound();
    const renewed = bindSlot({
      device,
      slot: 'identity',
      material: {
        type: 'x509',
        certificate: parseCertificate((await certificate({ notAfter: '2027-06-01T00:00:00Z' })).pem),
      },
      previous: version,
      policy,
      now,
      ids,
    });
    const superseded = renewed.versions[1]!;
    expect(superseded.status).toBe('SUPERSEDED');
    const outcome = applyCertificateStatus({
      device: renewed.after,
      version: superseded,
      status: 'REVOKED',
      reason: 'Superseded',
      policy,
      now: later,
      ids,
    });
    expect(outcome).toEqual({
      kind: 'version',
      version: {
        ...superseded,
        status: 'REVOKED',
        revocation_reason: 'Superseded',
        revoked_at: later.toISOString(),
        ca_reported_at: later.toISOString(),
      },
    });
  });

  it('an extra slot: the slot is revoked, the device status stays', async () => {
    const { device, version } = await bound('tls');
    const m = mutationOf(applyCertificateStatus({ device, version, status: 'REVOKED', policy, now: later, ids }));
    expect(m.after).toMatchObject({ status: 'NO_IDENTITY', slots: { tls: { status: 'REVOKED' } } });
    expect(m.outbox.map((o) => o.type)).toEqual(['device.slot.update']);
  });
});

describe('ACTIVE (hold released)', () => {
  it('re-activates a version held with CertificateHold; the status rules give the slot status', async () => {
    const { device, version } = await bound('identity', '2026-04-01T00:00:00Z');
    const held = mutationOf(
      applyCertificateStatus({ device, version, status: 'REVOKED', reason: 'CertificateHold', policy, now, ids }),
    );
    const m = mutationOf(
      applyCertificateStatus({
        device: held.after,
        version: held.versions[0]!,
        status: 'ACTIVE',
        policy,
        now: later,
        ids,
      }),
    );
    // 16 days before not_after: inside the 60-day window, outside the 14-day one.
    expect(m.after).toMatchObject({ status: 'RENEWAL_PENDING', identity: { status: 'RENEWAL_PENDING' } });
    expect(m.events).toEqual([
      expect.objectContaining({
        type: 'STATUS-UPDATED',
        description: "Status updated from 'REVOKED' to 'RENEWAL_PENDING' (certificate hold released)",
      }),
    ]);
    expect(Object.values(m.after.identity!.events).at(-1)).toMatchObject({ type: 'STATUS-UPDATED' });
    expect(m.outbox.map((o) => o.type)).toEqual(['device.identity.update', 'device.status.update']);
    expect(m.versions).toEqual([{ ...version, status: 'ACTIVE', ca_reported_at: later.toISOString() }]);
  });

  it('puts a held superseded version back to SUPERSEDED (version item only)', async () => {
    const { device, version } = await bound();
    const renewed = bindSlot({
      device,
      slot: 'identity',
      material: {
        type: 'x509',
        certificate: parseCertificate((await certificate({ notAfter: '2027-06-01T00:00:00Z' })).pem),
      },
      previous: version,
      policy,
      now,
      ids,
    });
    const held = applyCertificateStatus({
      device: renewed.after,
      version: renewed.versions[1]!,
      status: 'REVOKED',
      reason: 'CertificateHold',
      policy,
      now,
      ids,
    });
    if (held.kind !== 'version') throw new Error('expected a version update');
    expect(
      applyCertificateStatus({
        device: renewed.after,
        version: held.version,
        status: 'ACTIVE',
        policy,
        now: later,
        ids,
      }),
    ).toEqual({ kind: 'version', version: { ...version, status: 'SUPERSEDED', ca_reported_at: later.toISOString() } });
  });

  it('keeps any other revocation: it is permanent', async () => {
    const { device, version } = await bound();
    const revoked = mutationOf(
      applyCertificateStatus({ device, version, status: 'REVOKED', reason: 'KeyCompromise', policy, now, ids }),
    );
    expect(
      applyCertificateStatus({
        device: revoked.after,
        version: revoked.versions[0]!,
        status: 'ACTIVE',
        policy,
        now: later,
        ids,
      }),
    ).toEqual({
      kind: 'none',
      note:
        "slot 'identity' version 0 was revoked with reason KeyCompromise, " +
        'which is permanent (only CertificateHold is released)',
    });
  });

  it('changes nothing for a version that is not revoked, or on a decommissioned device', async () => {
    const { device, version } = await bound();
    expect(applyCertificateStatus({ device, version, status: 'ACTIVE', policy, now, ids })).toMatchObject({
      kind: 'none',
    });
    const held = mutationOf(
      applyCertificateStatus({ device, version, status: 'REVOKED', reason: 'CertificateHold', policy, now, ids }),
    );
    const gone = decommissionDevice(held.after, held.versions[0], policy, now, ids)!;
    expect(
      applyCertificateStatus({
        device: gone.after,
        version: held.versions[0]!,
        status: 'ACTIVE',
        policy,
        now: later,
        ids,
      }),
    ).toMatchObject({ kind: 'none' });
  });
});

describe('EXPIRED', () => {
  it('marks the slot EXPIRED at (or within 5 minutes of) not_after', async () => {
    const { device, version } = await bound('identity', '2026-03-16T10:03:00Z');
    const m = mutationOf(applyCertificateStatus({ device, version, status: 'EXPIRED', policy, now: later, ids }));
    expect(m.after).toMatchObject({ status: 'EXPIRED', identity: { status: 'EXPIRED' } });
    expect(m.outbox.map((o) => o.type)).toEqual(['device.identity.update', 'device.status.update']);
    expect(m.versions).toEqual([]);
  });

  it('ignores a report well before not_after (the status rules would undo it) and a revoked slot', async () => {
    const { device, version } = await bound();
    expect(applyCertificateStatus({ device, version, status: 'EXPIRED', policy, now: later, ids })).toMatchObject({
      kind: 'none',
      note: expect.stringContaining('not yet'),
    });
    const revoked = mutationOf(applyCertificateStatus({ device, version, status: 'REVOKED', policy, now, ids }));
    expect(
      applyCertificateStatus({
        device: revoked.after,
        version: revoked.versions[0]!,
        status: 'EXPIRED',
        policy,
        now: new Date('2028-01-01T00:00:00Z'),
        ids,
      }),
    ).toMatchObject({ kind: 'none' });
  });
});

describe('which revocations the CA may be asked for (caRevocation on the identity update)', () => {
  const byReference = () => {
    const device = newDevice({ id: 'd2', dms_id: 'dms' }, now).device;
    const m = bindSlot({
      device,
      slot: 'identity',
      material: { type: 'x509', serial_number: 'c0ffee', expiration_date: '2027-03-15T10:00:00Z' },
      policy,
      now,
      ids,
    });
    return { device: m.after, version: m.versions[0]! };
  };
  const identityUpdate = (m: SlotMutation) => m.outbox.find((o) => o.type === 'device.identity.update')!;

  it('a bound PEM: decommission and revoke name its serial', async () => {
    const { device, version } = await bound();
    expect(caRevocable(version)).toBe(true);
    const serial = version.certificate!.serial_number;
    expect(identityUpdate(decommissionDevice(device, version, policy, later, ids)!).caRevocation).toEqual({
      serial_number: serial,
    });
    expect(
      identityUpdate(
        revokeSlot({ device, slot: 'identity', reason: 'KeyCompromise', active: version, policy, now: later, ids })!,
      ).caRevocation,
    ).toEqual({ serial_number: serial });
  });

  it('a serial bound by reference alone: neither decommission nor revoke names it', () => {
    const { device, version } = byReference();
    expect(caRevocable(version)).toBe(false);
    expect(identityUpdate(decommissionDevice(device, version, policy, later, ids)!)).not.toHaveProperty('caRevocation');
    expect(
      identityUpdate(
        revokeSlot({ device, slot: 'identity', reason: 'Unspecified', active: version, policy, now: later, ids })!,
      ),
    ).not.toHaveProperty('caRevocation');
  });

  it('a serial by reference that the CA reported for this device (hold, then release): decommission names it', () => {
    const { device, version } = byReference();
    const held = mutationOf(
      applyCertificateStatus({ device, version, status: 'REVOKED', reason: 'CertificateHold', policy, now, ids }),
    );
    expect(identityUpdate(held).caRevocation).toEqual({ serial_number: 'c0ffee' });
    const released = mutationOf(
      applyCertificateStatus({
        device: held.after,
        version: held.versions[0]!,
        status: 'ACTIVE',
        policy,
        now: later,
        ids,
      }),
    );
    expect(released.versions[0]!.ca_reported_at).toBe(later.toISOString());
    expect(
      identityUpdate(decommissionDevice(released.after, released.versions[0], policy, later, ids)!).caRevocation,
    ).toEqual({ serial_number: 'c0ffee' });
  });

  it('an extra slot never names one (only identity revocations are pushed)', async () => {
    const { device, version } = await bound('tls');
    expect(
      revokeSlot({ device, slot: 'tls', reason: 'Unspecified', active: version, policy, now: later, ids })!.outbox.some(
        (o) => o.caRevocation,
      ),
    ).toBe(false);
  });
});
