/** X.509 certificates as the registry sees them (node:crypto only; no AWS). */
import { createHash, X509Certificate } from 'node:crypto';
import { ValidationError } from './errors';

export interface ParsedCertificate {
  /** PEM of the (first) certificate, normalised. */
  pem: string;
  /** Lowercase hex without separators or leading zero padding. */
  serial_number: string;
  issuer: string;
  subject: string;
  not_before: string;
  not_after: string;
  /** SHA-256 of the DER: also the AWS IoT certificate id. */
  sha256_fingerprint: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo: equal across renewals with the same key pair. */
  public_key_sha256: string;
}

/** 20 octets in hex. */
const MAX_SERIAL_HEX = 40;

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/**
 * The first PEM CERTIFICATE block of `text`, found in one forward pass: the first BEGIN, then the
 * first END after it (a lazy regex restarted at every BEGIN was quadratic on a body of repeated
 * BEGIN lines). `scan` is told each stretch of text searched, so tests can count the work.
 */
export function firstPemBlock(text: string, scan: (from: number, to: number) => void = () => {}): string | undefined {
  const begin = text.indexOf(BEGIN);
  scan(0, begin === -1 ? text.length : begin + BEGIN.length);
  if (begin === -1) return undefined;
  // At least one character between the markers, as before.
  const end = text.indexOf(END, begin + BEGIN.length + 1);
  scan(begin + BEGIN.length, end === -1 ? text.length : end + END.length);
  return end === -1 ? undefined : text.slice(begin, end + END.length);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * OpenSSL's printed time (`Jan  5 00:00:00 2026 GMT`) as ISO 8601, or undefined when it is not a
 * real instant: an invalid UTCTime (month 13, Feb 31) prints `Bad time value`, and Date.parse would
 * roll a Feb 31 over into March.
 */
export function certificateTime(text: string): string | undefined {
  const m = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (\d{4}) GMT$/.exec(text);
  if (!m) return undefined;
  const [month, day, h, min, sec, year] = [
    MONTHS.indexOf(m[1]!),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  ];
  const at = new Date(Date.UTC(year, month, day, h, min, sec));
  if (
    month < 0 ||
    at.getUTCFullYear() !== year ||
    at.getUTCMonth() !== month ||
    at.getUTCDate() !== day ||
    at.getUTCHours() !== h ||
    at.getUTCMinutes() !== min ||
    at.getUTCSeconds() !== sec
  )
    return undefined;
  return at.toISOString();
}

/** Distinguished names on one line, most specific first as in RFC 4514 order of the text form. */
const dn = (text: string) => text.split('\n').filter(Boolean).join(', ');

/** Parses a PEM certificate; anything else is a 400 naming the `certificate` field. */
export function parseCertificate(pem: unknown, field = 'certificate'): ParsedCertificate {
  const invalid = (problem: string) => new ValidationError('not a certificate', [{ field, problem }]);
  if (typeof pem !== 'string') throw invalid('must be a PEM string');
  const block = firstPemBlock(pem);
  if (!block) throw invalid('no PEM CERTIFICATE block');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block);
  } catch {
    throw invalid('the PEM block is not a valid X.509 certificate');
  }
  // RFC 5280 4.1.2.2: at most 20 octets. The serial is stored inline on the device, so it is bounded.
  const serialProblem = certificateSerialProblem(cert.serialNumber);
  if (serialProblem) throw invalid(serialProblem);
  const der = cert.raw;
  let spki: Buffer;
  try {
    spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    throw invalid('the public key algorithm or curve is not supported');
  }
  const notBefore = certificateTime(cert.validFrom);
  const notAfter = certificateTime(cert.validTo);
  if (notBefore === undefined) throw invalid('notBefore is not a valid time');
  if (notAfter === undefined) throw invalid('notAfter is not a valid time');
  return {
    pem: cert.toString(),
    serial_number: normaliseSerial(cert.serialNumber),
    issuer: dn(cert.issuer),
    subject: dn(cert.subject),
    not_before: notBefore,
    not_after: notAfter,
    sha256_fingerprint: sha256Hex(der),
    public_key_sha256: sha256Hex(spki),
  };
}

/** SHA-256 in lowercase hex, as the certificate fingerprints are given. */
export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The PEM of a DER certificate exactly as parseCertificate normalises it (node's X509Certificate
 * toString, which OpenSSL writes): the base64 of the DER in lines of 64 characters between the
 * markers, each line ended by a newline. Plain base64, no certificate parse: a stored DER costs a
 * read only this (docs/data-model.md, Slot version items).
 */
export function derToPem(der: Uint8Array): string {
  const body = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < body.length; at += 64) lines.push(body.slice(at, at + 64));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/**
 * The DER of a normalised PEM (parseCertificate's `pem`), or undefined when `pem` is not exactly
 * what derToPem gives for its DER: the caller then keeps the PEM itself, so nothing is lost.
 */
export function pemToDer(pem: string): Buffer | undefined {
  if (!pem.startsWith(`${BEGIN}\n`) || !pem.endsWith(`\n${END}\n`)) return undefined;
  const der = Buffer.from(pem.slice(BEGIN.length + 1, pem.length - END.length - 2).replace(/\n/g, ''), 'base64');
  return der.length > 0 && derToPem(der) === pem ? der : undefined;
}

/**
 * A certificate serial as the registry keys it: lowercase hex without separators (`:`, `-`, spaces)
 * or leading zero padding. `3F:0A:01` and `3f-0a-01` both become `3f0a01`.
 */
export function normaliseSerial(serial: string): string {
  return serial
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '')
    .replace(/^0+(?=.)/, '');
}

/**
 * Why a certificate's serial (as node:crypto prints it: hex, `-` when negative) cannot be stored,
 * or undefined. RFC 5280 4.1.2.2: a positive integer of at most 20 octets. A negative one is refused
 * rather than stored without its sign, where it would collide with the positive serial.
 */
export function certificateSerialProblem(serial: string): string | undefined {
  if (serial.trim().startsWith('-')) return 'the serial number is negative (RFC 5280: a positive integer)';
  if (normaliseSerial(serial).length > MAX_SERIAL_HEX) return 'the serial number is longer than 20 octets (RFC 5280)';
  return undefined;
}

/** Anything that looks like a PEM private key (never accepted as a slot secret). */
export const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
