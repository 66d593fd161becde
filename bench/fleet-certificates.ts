/**
 * Many distinct, valid self-signed certificates, fast: one template made by the test support
 * (@peculiar/x509, a few ms each), then per certificate a fresh key pair and serial written into the
 * template's to-be-signed bytes (same lengths) and signed again with node:crypto (well under a
 * millisecond). Each certificate has its own fingerprint and key, so a fleet of them shares nothing
 * (no shared-certificate or shared-key holder is written twice), as a real fleet.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { certificate, newKeyPair } from '../test/support/certificates';

type Curve = 'P-256' | 'P-384';
const HASH: Record<Curve, string> = { 'P-256': 'sha256', 'P-384': 'sha384' };
const SERIAL_BYTES = 8;

/** A DER element at `at`: where its content starts and ends. */
function element(der: Buffer, at: number): { start: number; end: number } {
  const first = der[at + 1]!;
  if (first < 0x80) return { start: at + 2, end: at + 2 + first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!;
  return { start: at + 2 + count, end: at + 2 + count + length };
}

function header(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

const pemOf = (der: Buffer) =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END CERTIFICATE-----\n`;

/**
 * A factory of certificates like the template (`subject`, validity, curve) with their own key and
 * serial. `next(i)` makes the i-th (its serial derives from `i` and the factory's `seed`).
 */
export async function certificateFactory(options: {
  curve: Curve;
  subject: string;
  notAfter: Date;
  seed: number;
}): Promise<(i: number) => string> {
  const algorithm = options.curve === 'P-256' ? 'EC-P256' : 'EC-P384';
  const keys = await newKeyPair(algorithm);
  const serial = '7f'.padEnd(SERIAL_BYTES * 2, '0');
  const { pem } = await certificate({ algorithm, keys, serial, subject: options.subject, notAfter: options.notAfter });
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
  const outer = element(der, 0);
  const tbs = element(der, outer.start);
  const tbsDer = der.subarray(outer.start, tbs.end);
  const algorithmDer = der.subarray(tbs.end, element(der, tbs.end).end);
  const serialAt = tbsDer.indexOf(Buffer.from(serial, 'hex'));
  const spkiAt = tbsDer.indexOf(spki);
  if (serialAt < 0 || spkiAt < 0) throw new Error('the template certificate does not hold its serial or key');
  return (i: number) => {
    const pair = generateKeyPairSync('ec', { namedCurve: options.curve });
    const key = pair.publicKey.export({ type: 'spki', format: 'der' });
    if (key.length !== spki.length) throw new Error('a key of another length than the template');
    const next = Buffer.from(tbsDer);
    // A positive 8-byte serial (first byte below 0x80), distinct per seed and index.
    next.writeUInt32BE((0x10000000 + options.seed * 0x01000000) >>> 0, serialAt);
    next.writeUInt32BE(i >>> 0, serialAt + 4);
    key.copy(next, spkiAt);
    const signature = sign(HASH[options.curve], next, pair.privateKey);
    const bits = Buffer.concat([header(0x03, signature.length + 1), Buffer.from([0]), signature]);
    const body = Buffer.concat([next, algorithmDer, bits]);
    return pemOf(Buffer.concat([header(0x30, body.length), body]));
  };
}
