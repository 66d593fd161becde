/** The posture policy's defaults and validation, and the findings a crypto profile raises under it. */
import fc from 'fast-check';
import type { CryptoProfile } from '../../../functions/domain/crypto-profile';
import {
  DEFAULT_POSTURE_POLICY,
  findingsOf,
  type PosturePolicy,
  posturePolicySchema,
} from '../../../functions/domain/posture';

const good: CryptoProfile = {
  key: 'EC-P256',
  signature: 'ecdsa-with-SHA256',
  signature_hash: 'SHA256',
  issuer_dn: 'CN=Fleet CA',
  authority_key_id: 'ab01',
  issuer: 'CN=Fleet CA keyid:ab01',
  validity_days: 365,
  validity: 'up-to-397d',
  not_after: '2027-01-01T00:00:00.000Z',
};

const checks = (profile: Partial<CryptoProfile>, policy: Partial<PosturePolicy> = {}, issuerNotAfter?: string) =>
  findingsOf({ ...good, ...profile }, { ...DEFAULT_POSTURE_POLICY, ...policy }, issuerNotAfter).map((f) => f.check);

describe('posturePolicySchema', () => {
  it('defaults to RSA 2048, P-256, SHA-1 and MD5 weak, any issuer, no validity limit', () => {
    expect(posturePolicySchema.parse({})).toEqual({
      min_rsa_bits: 2048,
      min_ec_curve: 'P-256',
      weak_signature_hashes: ['SHA1', 'MD5'],
      allowed_issuers: [],
    });
  });

  it.each([
    [{ min_rsa_bits: 2048.5 }, 'min_rsa_bits'],
    [{ min_ec_curve: 'P-192' }, 'min_ec_curve'],
    [{ weak_signature_hashes: ['sha-1'] }, 'weak_signature_hashes'],
    [{ max_validity_days: 0 }, 'max_validity_days'],
    [{ allowed_issuers: [''] }, 'allowed_issuers'],
    [{ unknown: true }, ''],
  ])('refuses %j', (body, field) => {
    const result = posturePolicySchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join('.')).toContain(field);
  });
});

describe('findingsOf', () => {
  it('raises nothing for a P-256 key signed with SHA-256 under the default policy', () => {
    expect(findingsOf(good, DEFAULT_POSTURE_POLICY)).toEqual([]);
  });

  it.each([
    ['RSA-1024', ['weak-key']],
    ['RSA-2048', []],
    ['RSA-4096', []],
    ['EC-P384', []],
    ['Ed25519', []],
    ['Ed448', []],
    ['EC-secp256k1', ['weak-key']],
    ['DSA-2048', ['weak-key']],
  ])('judges a %s key under the defaults', (key, expected) => {
    expect(checks({ key })).toEqual(expected);
  });

  it.each([
    ['EC-P256', 'P-384', ['weak-key']],
    ['Ed25519', 'P-384', ['weak-key']],
    ['Ed448', 'P-384', []],
    ['EC-P384', 'P-384', []],
    ['Ed448', 'P-521', ['weak-key']],
    ['EC-P521', 'P-521', []],
  ] as const)('judges %s against a minimum curve of %s', (key, min_ec_curve, expected) => {
    expect(checks({ key }, { min_ec_curve })).toEqual(expected);
  });

  it('flags a weak signature hash, and an EdDSA signature (no separate hash) never', () => {
    expect(checks({ signature: 'sha1WithRSAEncryption', signature_hash: 'SHA1', key: 'RSA-2048' })).toEqual([
      'weak-signature',
    ]);
    expect(checks({ signature: 'md5WithRSAEncryption', signature_hash: 'MD5', key: 'RSA-2048' })).toEqual([
      'weak-signature',
    ]);
    expect(checks({ signature: 'ED25519', signature_hash: undefined, key: 'Ed25519' })).toEqual([]);
    expect(checks({}, { weak_signature_hashes: ['SHA256'] })).toEqual(['weak-signature']);
  });

  it('allows any issuer when allowed_issuers is empty, else only those listed by inventory name', () => {
    expect(checks({}, { allowed_issuers: [] })).toEqual([]);
    expect(checks({}, { allowed_issuers: ['CN=Fleet CA keyid:ab01'] })).toEqual([]);
    // Same DN, another key: a different CA.
    expect(checks({}, { allowed_issuers: ['CN=Fleet CA keyid:cd02'] })).toEqual(['issuer-not-allowed']);
    expect(checks({}, { allowed_issuers: ['CN=Fleet CA'] })).toEqual(['issuer-not-allowed']);
  });

  it('flags a lifetime above max_validity_days, and none without a limit', () => {
    expect(checks({ validity_days: 3650 })).toEqual([]);
    expect(checks({ validity_days: 398 }, { max_validity_days: 397 })).toEqual(['validity-too-long']);
    expect(checks({ validity_days: 397 }, { max_validity_days: 397 })).toEqual([]);
  });

  it('flags a certificate outliving its issuer only when the issuer is known', () => {
    expect(checks({})).toEqual([]);
    expect(checks({}, {}, '2026-12-31T23:59:59.000Z')).toEqual(['expires-after-issuer']);
    expect(checks({}, {}, '2027-01-01T00:00:00.000Z')).toEqual([]);
  });

  it('flags a certificate older than max_certificate_age_days, to the day, only with a clock', () => {
    // Issued 2026-01-01 (notAfter 2027-01-01, 365 days).
    const at = (iso: string) => Date.parse(iso);
    const aged = (max: number, now: string) =>
      findingsOf(good, { ...DEFAULT_POSTURE_POLICY, max_certificate_age_days: max }, undefined, at(now));
    expect(aged(30, '2026-01-31T23:59:59.000Z')).toEqual([]);
    expect(aged(30, '2026-02-01T00:00:00.000Z')).toEqual([
      { check: 'certificate-too-old', detail: 'issued 31 days ago, above the maximum of 30' },
    ]);
    expect(findingsOf(good, { ...DEFAULT_POSTURE_POLICY, max_certificate_age_days: 1 })).toEqual([]);
    expect(checks({}, {})).toEqual([]);
  });

  it('accepts issuer certificates as PEM text, at most 20', () => {
    expect(posturePolicySchema.safeParse({ issuer_certificates: ['-----BEGIN CERTIFICATE-----'] }).success).toBe(true);
    expect(posturePolicySchema.safeParse({ issuer_certificates: Array(21).fill('x') }).success).toBe(false);
    expect(posturePolicySchema.safeParse({ issuer_certificates: [''] }).success).toBe(false);
  });

  it('lists every check that applies, in a stable order, each with a detail', () => {
    const findings = findingsOf(
      { ...good, key: 'RSA-1024', signature: 'sha1WithRSAEncryption', signature_hash: 'SHA1', validity_days: 9000 },
      { ...DEFAULT_POSTURE_POLICY, allowed_issuers: ['CN=Other CA'], max_validity_days: 825 },
      '2026-01-01T00:00:00.000Z',
    );
    expect(findings.map((f) => f.check)).toEqual([
      'weak-key',
      'weak-signature',
      'issuer-not-allowed',
      'validity-too-long',
      'expires-after-issuer',
    ]);
    expect(findings[0]!.detail).toContain('RSA-1024');
    expect(findings[0]!.detail).toContain('2048');
  });

  it('raises weak-key for an RSA key exactly when its bits are below the policy minimum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 512, max: 16384 }), fc.integer({ min: 512, max: 16384 }), (bits, min) => {
        const found = checks({ key: `RSA-${bits}` }, { min_rsa_bits: min }).includes('weak-key');
        expect(found).toBe(bits < min);
      }),
    );
  });

  it('never loses a finding when the policy is tightened', () => {
    const profile = fc.record({
      key: fc.constantFrom('RSA-1024', 'RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384', 'EC-P521', 'Ed25519', 'Ed448'),
      signature_hash: fc.constantFrom('MD5', 'SHA1', 'SHA256', 'SHA384'),
      validity_days: fc.integer({ min: 1, max: 10_000 }),
    });
    const curve = fc.integer({ min: 0, max: 2 });
    const curves = ['P-256', 'P-384', 'P-521'] as const;
    fc.assert(
      fc.property(
        profile,
        fc.integer({ min: 1024, max: 4096 }),
        fc.integer({ min: 0, max: 2048 }),
        curve,
        curve,
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (p, rsa, rsaRaise, c, cRaise, maxDays, daysCut) => {
          const loose: Partial<PosturePolicy> = {
            min_rsa_bits: rsa,
            min_ec_curve: curves[c],
            max_validity_days: maxDays + daysCut,
          };
          const tight: Partial<PosturePolicy> = {
            min_rsa_bits: rsa + rsaRaise,
            min_ec_curve: curves[Math.max(c, cRaise)],
            max_validity_days: maxDays,
            weak_signature_hashes: ['SHA1', 'MD5', 'SHA256'],
          };
          const before = checks(p, loose);
          const after = checks(p, tight);
          for (const check of before) expect(after).toContain(check);
        },
      ),
    );
  });
});
