/**
 * Hostile inputs shared by the adversarial suite, the fuzz test and bench:hostile: JSONPath
 * expressions that blow up naive evaluators, deep JSON, PEM armor and mutated certificate DER.
 */
import { X509Certificate } from 'node:crypto';

/** A JSON value nested `depth` containers deep, built without recursion. */
export function deepJson(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
}

/** The same, as text (what a client sends: JSON.stringify would recurse). */
export const deepJsonText = (depth: number) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

/** Metadata of about `bytes` bytes, under the 16 KiB limit. */
export const bulkyMetadata = (bytes: number, extra: Record<string, unknown> = {}) => ({
  ...extra,
  blob: 'x'.repeat(bytes),
});

/** Metadata eight levels deep with many leaves: what chained `..*` multiplies over. */
export function branchyMetadata(): Record<string, unknown> {
  let v: unknown = Array.from({ length: 40 }, (_, i) => i);
  for (let i = 0; i < 6; i++) v = { l: v, r: v, i };
  return { env: 'prod', t: v };
}

/** JSONPath filters that pinned a process before the bounded engine, with what each must answer. */
export const HOSTILE_JSONPATHS: { name: string; expression: string; status: 400 | 422 | 200 }[] = [
  {
    name: 'catastrophic regex (jsonpath-plus script)',
    expression: '$[?("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!".match(/(a{1,}){1,}b/))]',
    status: 400,
  },
  { name: 'RFC 9535 match()', expression: '$[?match(@.env, "(a{1,}){1,}b")]', status: 400 },
  { name: 'RFC 9535 search()', expression: '$[?search(@.env, "(a|aa)+$")]', status: 400 },
  { name: 'string methods', expression: '$[?("x".repeat(60000000).split(""))]', status: 400 },
  { name: 'unclosed nested calls', expression: `$[?${'length('.repeat(40)}@.a`, status: 400 },
  { name: 'does not parse', expression: '$[?(@.a ==)]', status: 400 },
  { name: 'chained descendants', expression: `$${'..*'.repeat(12)}`, status: 422 },
];

/** Bodies of PEM armor only: repeated BEGIN lines (quadratic for a lazy regex), and near-misses. */
export const pemArmor = (bytes: number, unit = '-----BEGIN CERTIFICATE-----\n') =>
  unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);

export const toPem = (der: Buffer) =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;

/** A certificate with its bytes at `find` replaced (same length), or undefined when absent. */
function patched(pem: string, find: Buffer, replace: (der: Buffer, at: number) => void): string {
  const der = Buffer.from(new X509Certificate(pem).raw);
  const at = der.indexOf(find);
  if (at === -1) throw new Error(`${find.toString('hex')} not in the certificate`);
  replace(der, at);
  return toPem(der);
}

/**
 * Certificates that parse as X.509 but break the registry's reading of them. `pem` must be a P-256
 * certificate whose notBefore is 2026-01-15T00:00:00Z (UTCTime `260115000000Z`).
 */
export function brokenCertificates(pem: string): { name: string; pem: string; problem: RegExp }[] {
  const utc = Buffer.from('260115000000Z');
  const time = (text: string) => patched(pem, utc, (der, at) => Buffer.from(text).copy(der, at));
  return [
    { name: 'month 13', pem: time('261315000000Z'), problem: /notBefore is not a valid time/ },
    { name: 'February 31', pem: time('260231000000Z'), problem: /notBefore is not a valid time/ },
    { name: 'hour 25', pem: time('260115250000Z'), problem: /notBefore is not a valid time/ },
    // prime256v1 (1.2.840.10045.3.1.7) with its last arc changed: an unknown curve.
    {
      name: 'unknown curve',
      pem: patched(pem, Buffer.from('06082a8648ce3d030107', 'hex'), (der, at) => (der[at + 9] = 0x63)),
      problem: /public key algorithm or curve/,
    },
    // id-ecPublicKey (1.2.840.10045.2.1) with its last arc changed: an unknown key algorithm.
    {
      name: 'unknown SPKI algorithm',
      pem: patched(pem, Buffer.from('06072a8648ce3d0201', 'hex'), (der, at) => (der[at + 8] = 0x09)),
      problem: /public key algorithm or curve/,
    },
  ];
}

/** DER with one byte changed at `at` (to `value`): the fuzz test's mutated certificates. */
export function mutateDer(pem: string, at: number, value: number): string {
  const der = Buffer.from(new X509Certificate(pem).raw);
  der[at % der.length] = value & 0xff;
  return toPem(der);
}

/** Pieces of JSONPath, valid and not, that the fuzz generators concatenate after `$`. */
export const JSONPATH_PIECES = [
  '.env',
  '.n',
  '.t',
  '.*',
  '..*',
  '..n',
  '[0]',
  '[-1]',
  '[0:2]',
  '[::-1]',
  '[*]',
  "['env']",
  '["a","b"]',
  '[?@.n > 1]',
  '[?@ == 4]',
  '[?length(@) > 2]',
  '[?count(@.*) > 1]',
  '[?value(@..n) == 3]',
  '[?!@.x]',
  '[?(@.a || @.b) && !(@.c)]',
  '[?match(@.env, "a+")]',
  '[?search(@, "(a|aa)+")]',
  '[?@.a ==]',
  '[?(',
  ')]',
  '[',
  ']',
  '..',
  '.',
  ' == 1',
  " == 'prod'",
  ' < 20',
  '[?length(length(',
  '"',
  "'",
  '\\',
  '[?@.__proto__]',
  '.constructor',
  '.toString',
];
