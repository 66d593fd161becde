/** A CA certificate and a certificate it signs, for CA registration tests (@peculiar/x509, WebCrypto). */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { newKeyPair } from './certificates';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALIDITY = { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2040-01-01T00:00:00Z') };

/** A self-signed CA (basicConstraints CA:TRUE), and `sign` to issue a certificate to a subject. */
export async function caCertificate(subject = 'CN=Test CA') {
  const keys = await newKeyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: subject,
    ...VALIDITY,
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const sign = async (name: string) =>
    (
      await x509.X509CertificateGenerator.create({
        serialNumber: '02',
        subject: name,
        issuer: ca.subject,
        ...VALIDITY,
        signingKey: keys.privateKey,
        publicKey: (await newKeyPair()).publicKey,
        signingAlgorithm: ALG,
      })
    ).toString('pem');
  return { pem: ca.toString('pem'), sign };
}
