/** Real X.509 certificates for tests, generated in-process with WebCrypto (@peculiar/x509). */
import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export type KeyPair = webcrypto.CryptoKeyPair;

export function newKeyPair(): Promise<KeyPair> {
  return crypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<KeyPair>;
}

let serials = 0x1000;

export interface CertificateOptions {
  keys?: KeyPair;
  /** Hex serial; a fresh one by default. */
  serial?: string;
  subject?: string;
  notBefore?: Date | string;
  notAfter: Date | string;
}

/** A self-signed PEM certificate with the given validity. */
export async function certificate(
  options: CertificateOptions,
): Promise<{ pem: string; keys: KeyPair; serial: string }> {
  const keys = options.keys ?? (await newKeyPair());
  const serial = options.serial ?? (serials++).toString(16);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: options.subject ?? 'CN=device, O=device-manager tests',
    notBefore: new Date(options.notBefore ?? '2020-01-01T00:00:00Z'),
    notAfter: new Date(options.notAfter),
    keys,
    signingAlgorithm: ALG,
  });
  return { pem: cert.toString('pem'), keys, serial };
}
