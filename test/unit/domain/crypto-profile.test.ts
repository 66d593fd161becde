/** Crypto profiles of real certificates generated here: key names, OpenSSL signature names, issuer with key id. */
import 'reflect-metadata';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { parseCertificate } from '../../../functions/domain/certificate';
import {
  cryptoProfileOf,
  DerError,
  derFields,
  issuerCertificateOf,
  issuerOf,
  oidOf,
  readTlv,
  validityBucket,
} from '../../../functions/domain/crypto-profile';

type Alg = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['signingAlgorithm'];

const RSA = (hash: string, name = 'RSASSA-PKCS1-v1_5') => ({ name, hash, publicExponent: new Uint8Array([1, 0, 1]) });

/** A node:crypto key pair as WebCrypto keys, so the test names the exact key size or curve. */
async function keysFrom(
  pair: { publicKey: import('node:crypto').KeyObject; privateKey: import('node:crypto').KeyObject },
  alg: Alg,
): Promise<webcrypto.CryptoKeyPair> {
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  return {
    publicKey: await webcrypto.subtle.importKey('spki', spki, alg as webcrypto.Algorithm, true, ['verify']),
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, alg as webcrypto.Algorithm, true, ['sign']),
  };
}

async function selfSigned(keys: webcrypto.CryptoKeyPair, alg: Alg, days = 365) {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=device, O=posture tests',
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date(Date.parse('2024-01-01T00:00:00Z') + days * 86_400_000),
    keys,
    signingAlgorithm: alg,
  });
  return parseCertificate(cert.toString('pem'));
}

describe('cryptoProfileOf', () => {
  it.each([
    [
      'RSA-1024',
      'sha1WithRSAEncryption',
      'SHA1',
      () => generateKeyPairSync('rsa', { modulusLength: 1024 }),
      RSA('SHA-1'),
    ],
    [
      'RSA-2048',
      'sha256WithRSAEncryption',
      'SHA256',
      () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
      RSA('SHA-256'),
    ],
    [
      'EC-P256',
      'ecdsa-with-SHA256',
      'SHA256',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
    ],
    [
      'EC-P384',
      'ecdsa-with-SHA384',
      'SHA384',
      () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' },
    ],
    [
      'EC-P521',
      'ecdsa-with-SHA512',
      'SHA512',
      () => generateKeyPairSync('ec', { namedCurve: 'P-521' }),
      { name: 'ECDSA', namedCurve: 'P-521', hash: 'SHA-512' },
    ],
    ['Ed25519', 'ED25519', undefined, () => generateKeyPairSync('ed25519'), { name: 'Ed25519' }],
  ] as const)('names a %s key signed with %s', async (key, signature, hash, pair, alg) => {
    const parsed = await selfSigned(await keysFrom(pair(), alg as Alg), alg as Alg);
    const profile = cryptoProfileOf(parsed);
    expect(profile.key).toBe(key);
    expect(profile.signature).toBe(signature);
    expect(profile.signature_hash).toBe(hash);
  });

  it('reads the RSASSA-PSS hash from the algorithm parameters', async () => {
    const alg = { ...RSA('SHA-384', 'RSA-PSS'), saltLength: 48 };
    const parsed = await selfSigned(await keysFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }), alg), alg);
    const profile = cryptoProfileOf(parsed);
    expect(profile.signature).toBe('rsassaPss');
    expect(profile.signature_hash).toBe('SHA384');
    expect(profile.key).toBe('RSA-2048');
  });

  it('names the issuer by DN and authority key id, so two CAs sharing a DN stay apart', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const leafOf = async () => {
      const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const ca = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: '0a',
        name: 'CN=Fleet CA, O=posture tests',
        notBefore: new Date('2024-01-01T00:00:00Z'),
        notAfter: new Date('2034-01-01T00:00:00Z'),
        keys: caKeys,
        signingAlgorithm: alg,
        extensions: [await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)],
      });
      const leafKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: '0b',
        subject: 'CN=device-1',
        issuer: ca.subject,
        notBefore: new Date('2024-01-01T00:00:00Z'),
        notAfter: new Date('2025-01-01T00:00:00Z'),
        publicKey: leafKeys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: alg,
        extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca, false)],
      });
      const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
      const issuer = issuerCertificateOf(parseCertificate(ca.toString('pem')));
      return { profile: cryptoProfileOf(parseCertificate(leaf.toString('pem'))), ski, issuer };
    };
    const [one, two] = [await leafOf(), await leafOf()];
    expect(one.profile.authority_key_id).toBe(one.ski.toLowerCase());
    // The issuer certificate is matched by DN and key id: each leaf finds its own CA, not the other.
    expect(one.issuer.subject_key_id).toBe(one.ski.toLowerCase());
    expect(issuerOf(one.profile, [two.issuer, one.issuer])).toBe(one.issuer);
    expect(issuerOf(two.profile, [one.issuer])).toBeUndefined();
    // A CA certificate naming no key id matches by DN alone.
    const { subject_key_id: _, ...bare } = one.issuer;
    expect(issuerOf(two.profile, [bare])).toBe(bare);
    expect(one.profile.issuer_dn).toBe(two.profile.issuer_dn);
    expect(one.profile.issuer).toBe(`${one.profile.issuer_dn} keyid:${one.ski.toLowerCase()}`);
    expect(one.profile.issuer).not.toBe(two.profile.issuer);
    expect(one.profile.validity).toBe('up-to-397d');
  });

  it('names a certificate without an authority key id by its DN alone', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const parsed = await selfSigned(await keysFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }), alg), alg);
    const profile = cryptoProfileOf(parsed);
    expect(profile.authority_key_id).toBeUndefined();
    expect(profile.issuer).toBe(parsed.issuer);
  });

  it.each([
    [90, 'up-to-90d'],
    [91, 'up-to-397d'],
    [397, 'up-to-397d'],
    [398, 'up-to-2y'],
    [3653, 'up-to-10y'],
    [3654, 'over-10y'],
  ])('buckets a %i-day certificate as %s', async (days, bucket) => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await keysFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }), alg);
    const profile = cryptoProfileOf(await selfSigned(keys, alg, days));
    expect(profile.validity_days).toBe(days);
    expect(profile.validity).toBe(bucket);
  });
});

describe('the DER reader', () => {
  /** Base-128 encoding of an OID, as X.690 8.19 writes it. */
  const encodeOid = (arcs: bigint[]) => {
    const body: number[] = [];
    for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
      const groups: number[] = [];
      let v = arc;
      do {
        groups.unshift(Number(v & 0x7fn));
        v >>= 7n;
      } while (v > 0n);
      body.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
    }
    return Uint8Array.from([0x06, body.length, ...body]);
  };

  it('decodes any OID it encodes', () => {
    const oid = fc
      .tuple(
        fc.integer({ min: 0, max: 2 }),
        fc.bigInt({ min: 0n, max: 39n }),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 40n }), { maxLength: 10 }),
      )
      .filter(([, , rest]) => rest.length < 14);
    fc.assert(
      fc.property(oid, ([root, second, rest]) => {
        const arcs = [BigInt(root), second, ...rest];
        const der = encodeOid(arcs);
        expect(oidOf(der, readTlv(der, 0))).toBe(arcs.join('.'));
      }),
    );
  });

  it('refuses truncated or indefinite lengths rather than reading past the buffer', () => {
    expect(() => readTlv(Uint8Array.from([0x30, 0x05, 0x01]), 0)).toThrow(DerError);
    expect(() => readTlv(Uint8Array.from([0x30, 0x80, 0x00, 0x00]), 0)).toThrow(DerError);
    expect(() => readTlv(Uint8Array.from([0x30, 0x85, 1, 1, 1, 1, 1]), 0)).toThrow(DerError);
    expect(() => derFields(Uint8Array.from([0x30, 0x02, 0x05, 0x00]))).toThrow(DerError);
  });

  it('throws only DerError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          derFields(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DerError);
        }
      }),
    );
  });

  it('buckets every lifetime into the first bucket that holds it', () => {
    const bounds = [90, 397, 731, 1827, 3653];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40_000 }), (days) => {
        const index = bounds.findIndex((max) => days <= max);
        const names = ['up-to-90d', 'up-to-397d', 'up-to-2y', 'up-to-5y', 'up-to-10y'];
        expect(validityBucket(days)).toBe(index === -1 ? 'over-10y' : names[index]);
      }),
    );
  });
});
