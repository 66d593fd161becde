/** Real X.509 certificates for tests, generated in-process with WebCrypto (@peculiar/x509). */
import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Key and signature algorithms the tests name (the inventory's key names). */
const ALGORITHMS = {
  'EC-P256': ALG,
  'EC-P384': { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' },
  'RSA-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  },
  /** Signed with SHA-1: a weak key and a weak signature under the default posture policy. */
  'RSA-1024': {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-1',
    modulusLength: 1024,
    publicExponent: new Uint8Array([1, 0, 1]),
  },
} as const;
export type TestAlgorithm = keyof typeof ALGORITHMS;

export type KeyPair = webcrypto.CryptoKeyPair;

export function newKeyPair(algorithm: TestAlgorithm = 'EC-P256'): Promise<KeyPair> {
  return crypto.subtle.generateKey(ALGORITHMS[algorithm], true, ['sign', 'verify']) as Promise<KeyPair>;
}

let serials = 0x1000;

export interface CertificateOptions {
  keys?: KeyPair;
  /** Hex serial; a fresh one by default. */
  serial?: string;
  subject?: string;
  notBefore?: Date | string;
  notAfter: Date | string;
  /** Key and signature algorithm (default EC-P256 with ecdsa-with-SHA256); `keys` must match it. */
  algorithm?: TestAlgorithm;
}

/** A self-signed PEM certificate with the given validity. */
export async function certificate(
  options: CertificateOptions,
): Promise<{ pem: string; keys: KeyPair; serial: string }> {
  const algorithm = options.algorithm ?? 'EC-P256';
  const keys = options.keys ?? (await newKeyPair(algorithm));
  const serial = options.serial ?? (serials++).toString(16);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: options.subject ?? 'CN=device, O=device-manager tests',
    notBefore: new Date(options.notBefore ?? '2020-01-01T00:00:00Z'),
    notAfter: new Date(options.notAfter),
    keys,
    signingAlgorithm: ALGORITHMS[algorithm],
  });
  return { pem: cert.toString('pem'), keys, serial };
}
