/**
 * The compact slot version layout, property-checked: DER ⇄ PEM is exact for any bytes, and any
 * version written by versionItem reads back to the same JSON, in whichever layout it was stored.
 */
import fc from 'fast-check';
import { DER_ATTRIBUTE, parseVersionItem, versionItem } from '../../../functions/adapters/dynamodb/slot-version-item';
import { derToPem, parseCertificate, type ParsedCertificate, pemToDer } from '../../../functions/domain/certificate';
import { REVOCATION_REASONS, type SlotVersion } from '../../../functions/domain/slots';
import { certificate, type TestAlgorithm } from '../../support/certificates';

describe('derToPem and pemToDer', () => {
  it('give back the same bytes, and the same PEM, for any DER', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), (der) => {
        const pem = derToPem(der);
        expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
        expect(pemToDer(pem)).toEqual(Buffer.from(der));
      }),
    );
  });

  it('is what parseCertificate normalises a PEM to', async () => {
    for (const algorithm of ['EC-P256', 'EC-P384', 'RSA-2048'] as TestAlgorithm[]) {
      const { pem } = await certificate({ algorithm, notAfter: '2030-01-01T00:00:00Z' });
      const parsed = parseCertificate(pem.replace(/\n/g, '\r\n'));
      expect(derToPem(pemToDer(parsed.pem)!)).toBe(parsed.pem);
    }
  });

  it('refuses a PEM not in that form', async () => {
    const { pem } = await certificate({ notAfter: '2030-01-01T00:00:00Z' });
    const body = pem.split('\n').slice(1, -2).join('');
    for (const other of [
      pem.replace(/\n/g, '\r\n'),
      pem.trimEnd(),
      `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
      `${pem}${pem}`,
      '-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n',
    ])
      expect(pemToDer(other)).toBeUndefined();
  });
});

describe('versionItem and parseVersionItem', () => {
  let pool: ParsedCertificate[];
  beforeAll(async () => {
    pool = [];
    for (const algorithm of ['EC-P256', 'EC-P384', 'RSA-2048', 'RSA-1024'] as TestAlgorithm[])
      pool.push(parseCertificate((await certificate({ algorithm, notAfter: '2030-01-01T00:00:00Z' })).pem));
  });

  const instant = fc
    .integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') })
    .map((ms) => new Date(ms).toISOString());
  const versions = (certificates: () => ParsedCertificate[]) =>
    fc.record(
      {
        device_id: fc.stringMatching(/^[A-Za-z0-9._#:-]{1,64}$/),
        slot: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
        version: fc.nat({ max: 2_000_000 }),
        type: fc.constantFrom('x509' as const, 'TOKEN' as const),
        status: fc.constantFrom('ACTIVE' as const, 'SUPERSEDED' as const, 'REVOKED' as const),
        created_at: instant,
        expiration_date: instant,
        certificate: fc.nat().map((i) => certificates()[i % certificates().length]!),
        secret: fc.string(),
        revocation_reason: fc.constantFrom(...REVOCATION_REASONS),
        revoked_at: instant,
        ca_reported_at: instant,
      },
      { requiredKeys: ['device_id', 'slot', 'version', 'type', 'status', 'created_at'] },
    ) as fc.Arbitrary<SlotVersion>;

  it('read back every version as it was, the certificate ones compactly', () => {
    fc.assert(
      fc.property(
        versions(() => pool),
        (version) => {
          const item = versionItem(version);
          expect(JSON.stringify(parseVersionItem(item))).toBe(JSON.stringify(version));
          // Compact whenever there is a certificate: the PEM and its fingerprint are not stored.
          expect(item[DER_ATTRIBUTE] !== undefined).toBe(version.certificate !== undefined);
          if (version.certificate) expect(item.doc).not.toContain(version.certificate.sha256_fingerprint);
          // An item of the earlier layout (the whole version in `doc`) reads the same.
          expect(JSON.stringify(parseVersionItem({ doc: JSON.stringify(version) }))).toBe(JSON.stringify(version));
        },
      ),
      { numRuns: 300 },
    );
  });
});
