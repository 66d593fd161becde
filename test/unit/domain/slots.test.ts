import { randomUUID } from 'node:crypto';
import { parseCertificate } from '../../../functions/domain/certificate';
import { newDevice } from '../../../functions/domain/device';
import { InvalidStateError, UnprocessableError, ValidationError } from '../../../functions/domain/errors';
import {
  bindSlot,
  decommissionDevice,
  refreshSlots,
  revokeSlot,
  type SlotVersion,
} from '../../../functions/domain/slots';
import { windowsOf } from '../../../functions/domain/status';
import { certificate, newKeyPair } from '../../support/certificates';

const policy = windowsOf({ preventive_delta: '60d', critical_delta: '14d' });
const now = new Date('2026-03-15T10:00:00.000Z');
const fresh = () => newDevice({ id: 'd1', dms_id: 'dms' }, now).device;
const ids = () => randomUUID();

describe('certificate parsing', () => {
  it('reads serial, validity, names and fingerprints of a real certificate', async () => {
    const { pem } = await certificate({
      serial: '00ab12',
      subject: 'CN=device-001, O=Acme',
      notBefore: '2026-01-01T00:00:00Z',
      notAfter: '2027-01-01T00:00:00Z',
    });
    const parsed = parseCertificate(`leading text\n${pem}\ntrailing`);
    expect(parsed).toMatchObject({
      serial_number: 'ab12',
      subject: 'CN=device-001, O=Acme',
      issuer: 'CN=device-001, O=Acme',
      not_before: '2026-01-01T00:00:00.000Z',
      not_after: '2027-01-01T00:00:00.000Z',
    });
    expect(parsed.sha256_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.public_key_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.pem).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('same key pair → same public key hash; another key pair → another', async () => {
    const keys = await newKeyPair();
    const a = parseCertificate((await certificate({ keys, notAfter: '2027-01-01T00:00:00Z' })).pem);
    const b = parseCertificate((await certificate({ keys, notAfter: '2028-01-01T00:00:00Z' })).pem);
    const c = parseCertificate((await certificate({ notAfter: '2028-01-01T00:00:00Z' })).pem);
    expect(a.public_key_sha256).toBe(b.public_key_sha256);
    expect(a.sha256_fingerprint).not.toBe(b.sha256_fingerprint);
    expect(c.public_key_sha256).not.toBe(a.public_key_sha256);
  });

  it.each([42, 'not a pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'])(
    'rejects %j with 400',
    (input) => {
      expect(() => parseCertificate(input)).toThrow(ValidationError);
    },
  );
});

describe('binding', () => {
  it('provisions version 0, renews with the same key, re-provisions with another', async () => {
    const keys = await newKeyPair();
    const first = parseCertificate((await certificate({ keys, notAfter: '2027-03-15T10:00:00Z' })).pem);
    const a = bindSlot({
      device: fresh(),
      slot: 'identity',
      material: { type: 'x509', certificate: first },
      policy,
      now,
      ids,
    });
    expect(a.after).toMatchObject({
      status: 'ACTIVE',
      version: 2,
      identity: {
        status: 'ACTIVE',
        active_version: 0,
        type: 'x509',
        secrets: { '0': first.serial_number },
        expiration_date: '2027-03-15T10:00:00.000Z',
      },
    });
    expect(a.events.map((e) => [e.type, e.slot])).toEqual([
      ['PROVISIONED', 'identity'],
      ['STATUS-UPDATED', undefined],
    ]);
    expect(a.outbox.map((o) => o.type)).toEqual(['device.identity.update', 'device.status.update']);
    expect(a.versions).toEqual([expect.objectContaining({ version: 0, status: 'ACTIVE', certificate: first })]);
    // next boundary: E - 60d
    expect(a.due).toBe(Date.parse('2027-03-15T10:00:00Z') - 60 * 86_400_000);

    const renewed = parseCertificate((await certificate({ keys, notAfter: '2026-04-01T10:00:00Z' })).pem);
    const b = bindSlot({
      device: a.after,
      slot: 'identity',
      material: { type: 'x509', certificate: renewed },
      previous: a.versions[0] as SlotVersion,
      policy,
      now,
      ids,
    });
    expect(b.events.map((e) => e.type)).toEqual(['RENEWED', 'STATUS-UPDATED']);
    expect(b.after.status).toBe('RENEWAL_PENDING');
    expect(b.after.identity).toMatchObject({
      active_version: 1,
      secrets: { '0': first.serial_number, '1': renewed.serial_number },
    });
    expect(b.versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'ACTIVE'],
      [0, 'SUPERSEDED'],
    ]);

    const other = parseCertificate((await certificate({ notAfter: '2026-04-01T10:00:00Z' })).pem);
    const c = bindSlot({
      device: b.after,
      slot: 'identity',
      material: { type: 'x509', certificate: other },
      previous: b.versions[0],
      policy,
      now,
      ids,
    });
    expect(c.events.map((e) => e.type)).toEqual(['RE-PROVISIONED']);
    expect(c.outbox.map((o) => o.type)).toEqual(['device.identity.update']);
  });

  it('refuses an expired certificate (422) and a decommissioned device (409)', async () => {
    const expired = parseCertificate((await certificate({ notAfter: '2026-03-15T10:00:00Z' })).pem);
    expect(() =>
      bindSlot({
        device: fresh(),
        slot: 'identity',
        material: { type: 'x509', certificate: expired },
        policy,
        now,
        ids,
      }),
    ).toThrow(UnprocessableError);
    const valid = parseCertificate((await certificate({ notAfter: '2027-03-15T10:00:00Z' })).pem);
    expect(() =>
      bindSlot({
        device: { ...fresh(), status: 'DECOMMISSIONED' },
        slot: 'identity',
        material: { type: 'x509', certificate: valid },
        policy,
        now,
        ids,
      }),
    ).toThrow(InvalidStateError);
  });

  it('extra slots have their own status; the device follows the identity only', () => {
    const r = bindSlot({
      device: fresh(),
      slot: 'api-token',
      material: { type: 'TOKEN', secret: 'arn:secret:1', expiration_date: '2026-03-20T10:00:00.000Z' },
      policy,
      now,
      ids,
    });
    expect(r.after.status).toBe('NO_IDENTITY');
    expect(r.after.slots['api-token']).toMatchObject({
      status: 'EXPIRING_SOON',
      type: 'TOKEN',
      secrets: { '0': 'arn:secret:1' },
    });
    expect(r.outbox.map((o) => o.type)).toEqual(['device.slot.update']);
    expect(r.due).toBe(Date.parse('2026-03-20T10:00:00.000Z'));
  });
});

describe('the crypto profile kept on the slot', () => {
  it('a PEM bind keeps its profile; a serial bound alone or a secret has none; a revocation keeps it', async () => {
    const cert = parseCertificate((await certificate({ notAfter: '2027-03-15T10:00:00Z' })).pem);
    const bound = bindSlot({
      device: fresh(),
      slot: 'identity',
      material: { type: 'x509', certificate: cert },
      policy,
      now,
      ids,
    });
    expect(bound.after.identity?.crypto).toMatchObject({
      key: 'EC-P256',
      signature: 'ecdsa-with-SHA256',
      signature_hash: 'SHA256',
      issuer: cert.issuer,
      validity: 'up-to-10y',
      sha256_fingerprint: cert.sha256_fingerprint,
      public_key_sha256: cert.public_key_sha256,
    });
    const byReference = bindSlot({
      device: bound.after,
      slot: 'identity',
      material: { type: 'x509', serial_number: 'ab', expiration_date: '2027-06-01T00:00:00Z' },
      previous: bound.versions[0],
      policy,
      now,
      ids,
    });
    expect(byReference.after.identity?.crypto).toBeUndefined();
    const token = bindSlot({
      device: fresh(),
      slot: 'api',
      material: { type: 'TOKEN', secret: 's' },
      policy,
      now,
      ids,
    });
    expect(token.after.slots.api?.crypto).toBeUndefined();
    const revoked = revokeSlot({
      device: bound.after,
      slot: 'identity',
      reason: 'KeyCompromise',
      active: bound.versions[0],
      policy,
      now,
      ids,
    })!;
    expect(revoked.after.identity?.crypto).toEqual(bound.after.identity?.crypto);
  });
});

describe('revocation, refresh and decommission', () => {
  async function provisioned(notAfter: string) {
    const cert = parseCertificate((await certificate({ notAfter })).pem);
    return bindSlot({
      device: fresh(),
      slot: 'identity',
      material: { type: 'x509', certificate: cert },
      policy,
      now,
      ids,
    });
  }

  it('revokes the identity: device REVOKED, version REVOKED with reason; again is a no-op', async () => {
    const bound = await provisioned('2027-03-15T10:00:00Z');
    const r = revokeSlot({
      device: bound.after,
      slot: 'identity',
      reason: 'KeyCompromise',
      active: bound.versions[0],
      policy,
      now,
      ids,
    })!;
    expect(r.after.status).toBe('REVOKED');
    expect(r.versions[0]).toMatchObject({ status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    expect(r.due).toBeNull();
    expect(
      revokeSlot({ device: r.after, slot: 'identity', reason: 'KeyCompromise', policy, now, ids }),
    ).toBeUndefined();
  });

  it('refresh records one STATUS-UPDATED per crossed status and nothing when nothing changed', async () => {
    const bound = await provisioned('2026-04-01T10:00:00Z'); // RENEWAL_PENDING now; EXPIRING_SOON from 03-18
    expect(refreshSlots(bound.after, policy, now, ids).mutation).toBeUndefined();
    const later = new Date('2026-03-20T00:00:00Z');
    const { mutation } = refreshSlots(bound.after, policy, later, ids);
    expect(mutation!.after.status).toBe('EXPIRING_SOON');
    expect(mutation!.events.map((e) => e.type)).toEqual(['STATUS-UPDATED']);
    expect(mutation!.outbox).toEqual([
      expect.objectContaining({
        type: 'device.status.update',
        data: { previous: { status: 'RENEWAL_PENDING' }, updated: { status: 'EXPIRING_SOON' } },
      }),
    ]);
    expect(Object.values(mutation!.after.identity!.events).map((e) => e.type)).toEqual([
      'PROVISIONED',
      'STATUS-UPDATED',
    ]);
    expect(mutation!.due).toBe(Date.parse('2026-04-01T10:00:00Z'));
    // skipping a boundary (swept late) is still one transition
    const { mutation: late } = refreshSlots(bound.after, policy, new Date('2026-05-01T00:00:00Z'), ids);
    expect(late!.after.status).toBe('EXPIRED');
    expect(late!.events).toHaveLength(1);
    expect(late!.due).toBeNull();
  });

  it('decommission revokes the active identity with CessationOfOperation', async () => {
    const bound = await provisioned('2027-03-15T10:00:00Z');
    const r = decommissionDevice(bound.after, bound.versions[0], policy, now, ids)!;
    expect(r.after.status).toBe('DECOMMISSIONED');
    expect(r.after.identity!.status).toBe('REVOKED');
    expect(r.events.map((e) => e.type)).toEqual(['DECOMMISSIONED', 'REVOKED', 'STATUS-UPDATED']);
    expect(r.versions[0]).toMatchObject({ status: 'REVOKED', revocation_reason: 'CessationOfOperation' });
    expect(r.outbox.map((o) => o.type)).toEqual([
      'device.decommission',
      'device.identity.update',
      'device.status.update',
    ]);
    // The event carries the device before and the final device after (its status, revoked identity and events).
    expect(r.outbox[0]!.data).toEqual({ previous: bound.after, updated: r.after });
    expect(r.due).toBeNull();
    expect(decommissionDevice(r.after, undefined, policy, now, ids)).toBeUndefined();
  });
});
