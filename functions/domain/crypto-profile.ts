/**
 * A certificate's crypto profile: the names the fleet inventory counts (key, signature algorithm,
 * issuer, validity bucket). node:crypto gives the key details; it does not expose the signature
 * algorithm or the authority key id, so those are read from the DER with the small reader below.
 */
import { X509Certificate } from 'node:crypto';
import type { ParsedCertificate } from './certificate';
import { ValidationError } from './errors';

export interface CryptoProfile {
  /** `RSA-2048`, `EC-P256`, `EC-P384`, `EC-P521`, `EC-<curve>` for other curves, `Ed25519`, `Ed448`, `DSA-<bits>`. */
  key: string;
  /** As OpenSSL prints it (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`); the dotted OID when unknown. */
  signature: string;
  /** Hash of the signature (`SHA256`, `SHA1`, `MD5`), undefined when the algorithm has none (EdDSA) or is unknown. */
  signature_hash?: string;
  /** Issuer DN as the registry prints it (see certificate.ts). */
  issuer_dn: string;
  /** Lowercase hex keyIdentifier of the authorityKeyIdentifier extension, when present. */
  authority_key_id?: string;
  /** Issuer DN with its authority key id: one CA per name even when two CAs share a DN. */
  issuer: string;
  /** Lifetime notAfter - notBefore in whole days (rounded down). */
  validity_days: number;
  /** One of VALIDITY_BUCKETS. */
  validity: ValidityBucket;
  not_after: string;
}

/** Lifetime buckets, shortest first: upper bound in days inclusive. 397 days is the CA/Browser Forum TLS maximum. */
export const VALIDITY_BUCKETS = [
  ['up-to-90d', 90],
  ['up-to-397d', 397],
  ['up-to-2y', 731],
  ['up-to-5y', 1827],
  ['up-to-10y', 3653],
  ['over-10y', Number.POSITIVE_INFINITY],
] as const;
export type ValidityBucket = (typeof VALIDITY_BUCKETS)[number][0];

export function validityBucket(days: number): ValidityBucket {
  for (const [name, max] of VALIDITY_BUCKETS) if (days <= max) return name;
  return 'over-10y';
}

const DAY_MS = 86_400_000;

/** Curve names as node:crypto reports them (OpenSSL short names) → the inventory's names. */
const CURVES: Record<string, string> = {
  prime256v1: 'P256',
  'P-256': 'P256',
  secp384r1: 'P384',
  'P-384': 'P384',
  secp521r1: 'P521',
  'P-521': 'P521',
};

/** signatureAlgorithm OIDs → OpenSSL's long names and the hash they use. */
const SIGNATURES: Record<string, [name: string, hash?: string]> = {
  '1.2.840.113549.1.1.2': ['md2WithRSAEncryption', 'MD2'],
  '1.2.840.113549.1.1.4': ['md5WithRSAEncryption', 'MD5'],
  '1.2.840.113549.1.1.5': ['sha1WithRSAEncryption', 'SHA1'],
  '1.2.840.113549.1.1.11': ['sha256WithRSAEncryption', 'SHA256'],
  '1.2.840.113549.1.1.12': ['sha384WithRSAEncryption', 'SHA384'],
  '1.2.840.113549.1.1.13': ['sha512WithRSAEncryption', 'SHA512'],
  '1.2.840.113549.1.1.14': ['sha224WithRSAEncryption', 'SHA224'],
  '1.2.840.113549.1.1.10': ['rsassaPss'],
  '1.2.840.10045.4.1': ['ecdsa-with-SHA1', 'SHA1'],
  '1.2.840.10045.4.3.1': ['ecdsa-with-SHA224', 'SHA224'],
  '1.2.840.10045.4.3.2': ['ecdsa-with-SHA256', 'SHA256'],
  '1.2.840.10045.4.3.3': ['ecdsa-with-SHA384', 'SHA384'],
  '1.2.840.10045.4.3.4': ['ecdsa-with-SHA512', 'SHA512'],
  '1.2.840.10040.4.3': ['dsaWithSHA1', 'SHA1'],
  '2.16.840.1.101.3.4.3.2': ['dsa_with_SHA256', 'SHA256'],
  '1.3.101.112': ['ED25519'],
  '1.3.101.113': ['ED448'],
};

/** Hash OIDs (RSASSA-PSS names its hash in its parameters). */
const HASHES: Record<string, string> = {
  '1.2.840.113549.2.5': 'MD5',
  '1.3.14.3.2.26': 'SHA1',
  '2.16.840.1.101.3.4.2.4': 'SHA224',
  '2.16.840.1.101.3.4.2.1': 'SHA256',
  '2.16.840.1.101.3.4.2.2': 'SHA384',
  '2.16.840.1.101.3.4.2.3': 'SHA512',
};

const AUTHORITY_KEY_ID = '2.5.29.35';
const SUBJECT_KEY_ID = '2.5.29.14';

/** One DER TLV: its tag, and where its contents start and end in the buffer. */
export interface Tlv {
  tag: number;
  start: number;
  end: number;
}

export class DerError extends Error {}

/**
 * Reads the TLV at `at`, bounded by `limit`. Single-byte tags only (X.509 uses no high tag numbers in
 * the fields read here); definite lengths only, as DER requires.
 */
export function readTlv(der: Uint8Array, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) throw new DerError('truncated');
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag number');
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    // 4 octets already exceed any certificate; 0 is the indefinite form, which DER forbids.
    if (octets === 0 || octets > 4 || start + octets > limit) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new DerError('truncated');
  return { tag, start, end };
}

/** The children of a constructed TLV, in order. */
export function childrenOf(der: Uint8Array, parent: Tlv | undefined): Tlv[] {
  if (!parent) throw new DerError('missing field');
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** An OBJECT IDENTIFIER's contents in dotted form. */
export function oidOf(der: Uint8Array, tlv: Tlv | undefined): string {
  if (!tlv || tlv.tag !== 0x06 || tlv.end <= tlv.start) throw new DerError('not an OID');
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = tlv.start; i < tlv.end; i++) {
    const byte = der[i]!;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (der[tlv.end - 1]! & 0x80) throw new DerError('truncated OID');
  const first = arcs.shift()!;
  const root = first < 40n ? 0n : first < 80n ? 1n : 2n;
  return [root, first - root * 40n, ...arcs].join('.');
}

const hex = (der: Uint8Array, tlv: Tlv) => Buffer.from(der.subarray(tlv.start, tlv.end)).toString('hex');

/** The signature algorithm's name and hash from Certificate.signatureAlgorithm (RFC 5280 4.1.1.2). */
function signatureOf(der: Uint8Array, algorithm: Tlv): { name: string; hash?: string } {
  const [oidTlv, params] = childrenOf(der, algorithm);
  const oid = oidOf(der, oidTlv);
  const known = SIGNATURES[oid];
  if (!known) return { name: oid };
  const [name, hash] = known;
  if (oid !== '1.2.840.113549.1.1.10') return hash ? { name, hash } : { name };
  // RFC 4055: RSASSA-PSS-params; hashAlgorithm [0] defaults to SHA-1.
  const hashField = params?.tag === 0x30 ? childrenOf(der, params).find((c) => c.tag === 0xa0) : undefined;
  if (!hashField) return { name, hash: 'SHA1' };
  const hashOid = oidOf(der, childrenOf(der, childrenOf(der, hashField)[0])[0]);
  return { name, hash: HASHES[hashOid] ?? hashOid };
}

/** The extnValue of extension `oid` in the TBSCertificate, or undefined. */
function extensionValue(der: Uint8Array, tbs: Tlv, oid: string): Tlv | undefined {
  const extensions = childrenOf(der, tbs).find((c) => c.tag === 0xa3);
  if (!extensions) return undefined;
  for (const extension of childrenOf(der, childrenOf(der, extensions)[0])) {
    const fields = childrenOf(der, extension);
    if (oidOf(der, fields[0]) !== oid) continue;
    const value = fields[fields.length - 1]!;
    if (value.tag !== 0x04) throw new DerError('extnValue is not an OCTET STRING');
    return value;
  }
  return undefined;
}

/** keyIdentifier of the subjectKeyIdentifier extension (RFC 5280 4.2.1.2) in lowercase hex, or undefined. */
export function subjectKeyIdOf(der: Uint8Array): string | undefined {
  const [tbs] = childrenOf(der, readTlv(der, 0));
  if (tbs?.tag !== 0x30) throw new DerError('not a certificate');
  const value = extensionValue(der, tbs, SUBJECT_KEY_ID);
  if (!value) return undefined;
  const keyId = readTlv(der, value.start, value.end);
  if (keyId.tag !== 0x04) throw new DerError('keyIdentifier is not an OCTET STRING');
  return hex(der, keyId);
}

/** keyIdentifier of the authorityKeyIdentifier extension (RFC 5280 4.2.1.1), or undefined. */
function authorityKeyIdOf(der: Uint8Array, tbs: Tlv): string | undefined {
  const value = extensionValue(der, tbs, AUTHORITY_KEY_ID);
  if (!value) return undefined;
  const aki = readTlv(der, value.start, value.end);
  const keyId = childrenOf(der, aki).find((c) => c.tag === 0x80);
  return keyId ? hex(der, keyId) : undefined;
}

/** Signature algorithm and authority key id read from a certificate's DER. */
export function derFields(der: Uint8Array): { signature: string; signature_hash?: string; authority_key_id?: string } {
  const certificate = readTlv(der, 0);
  const [tbs, algorithm] = childrenOf(der, certificate);
  if (tbs?.tag !== 0x30 || algorithm?.tag !== 0x30) throw new DerError('not a certificate');
  const { name, hash } = signatureOf(der, algorithm);
  const aki = authorityKeyIdOf(der, tbs);
  return {
    signature: name,
    ...(hash ? { signature_hash: hash } : {}),
    ...(aki ? { authority_key_id: aki } : {}),
  };
}

function keyName(cert: X509Certificate): string {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `RSA-${details.modulusLength}`;
    case 'ec':
      return `EC-${CURVES[details.namedCurve ?? ''] ?? details.namedCurve}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    case 'dsa':
      return `DSA-${details.modulusLength}`;
    default:
      return String(key.asymmetricKeyType);
  }
}

/** The issuer as the inventory names it: the DN, then `keyid:<hex>` when the certificate names its CA's key. */
export const issuerName = (dn: string, authorityKeyId?: string) =>
  authorityKeyId ? `${dn} keyid:${authorityKeyId}` : dn;

/** The crypto profile of a certificate the registry already parsed (parseCertificate). */
export function cryptoProfileOf(certificate: ParsedCertificate): CryptoProfile {
  const cert = new X509Certificate(certificate.pem);
  let fields: ReturnType<typeof derFields>;
  try {
    fields = derFields(cert.raw);
  } catch (error) {
    // node:crypto read it, so this is only reachable on a DER the reader above does not cover.
    throw new ValidationError('not a certificate', [
      { field: 'certificate', problem: `the DER could not be read (${(error as Error).message})` },
    ]);
  }
  const days = Math.floor((Date.parse(certificate.not_after) - Date.parse(certificate.not_before)) / DAY_MS);
  return {
    key: keyName(cert),
    ...fields,
    issuer_dn: certificate.issuer,
    issuer: issuerName(certificate.issuer, fields.authority_key_id),
    validity_days: days,
    validity: validityBucket(days),
    not_after: certificate.not_after,
  };
}

/**
 * The profile a slot keeps for its active certificate (the device document's `crypto`): the crypto
 * profile plus the two fingerprints, so inventory, findings and their back-fills work from the device
 * item alone, without reading the stored certificate again.
 */
export interface SlotCrypto extends CryptoProfile {
  /** SHA-256 of the certificate's DER (the same certificate on two devices). */
  sha256_fingerprint: string;
  /** SHA-256 of its SubjectPublicKeyInfo (the same key pair, whatever the certificate). */
  public_key_sha256: string;
}

export function slotCryptoOf(certificate: ParsedCertificate): SlotCrypto {
  return {
    ...cryptoProfileOf(certificate),
    sha256_fingerprint: certificate.sha256_fingerprint,
    public_key_sha256: certificate.public_key_sha256,
  };
}

/** An issuer certificate the posture policy names: what a certificate it issued is matched by. */
export interface IssuerCertificate {
  subject: string;
  subject_key_id?: string;
  not_after: string;
}

export function issuerCertificateOf(certificate: ParsedCertificate): IssuerCertificate {
  let ski: string | undefined;
  try {
    ski = subjectKeyIdOf(new X509Certificate(certificate.pem).raw);
  } catch (error) {
    throw new ValidationError('not a certificate', [
      { field: 'issuer_certificates', problem: `the DER could not be read (${(error as Error).message})` },
    ]);
  }
  return { subject: certificate.subject, ...(ski ? { subject_key_id: ski } : {}), not_after: certificate.not_after };
}

/**
 * The issuer certificate that issued a certificate of this profile: same DN, and the same key id
 * when both name one (two CAs sharing a DN stay apart). The latest-expiring of several matches.
 */
export function issuerOf(
  profile: Pick<CryptoProfile, 'issuer_dn' | 'authority_key_id'>,
  issuers: readonly IssuerCertificate[],
): IssuerCertificate | undefined {
  const matches = issuers.filter(
    (i) =>
      i.subject === profile.issuer_dn &&
      (!i.subject_key_id || !profile.authority_key_id || i.subject_key_id === profile.authority_key_id),
  );
  return matches.sort((a, b) => Date.parse(b.not_after) - Date.parse(a.not_after))[0];
}
