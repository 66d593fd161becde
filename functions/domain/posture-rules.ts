/**
 * The findings one certificate's crypto profile raises under the fleet posture policy (its schema:
 * posture.ts). Pure: no clock (certificate age is judged by the caller, which holds the clock), no
 * storage, no schema library (device writes load this at every cold start).
 */
import type { CryptoProfile } from './crypto-profile';
import type { PosturePolicy } from './posture';
import type { PostureCheck } from './posture-checks';

/** Curves in increasing strength; a policy names the weakest it accepts. */
export const EC_CURVES = ['P-256', 'P-384', 'P-521'] as const;
export type EcCurve = (typeof EC_CURVES)[number];

/** Security strength in bits (NIST SP 800-57 Part 1, table 2; RFC 8032 for EdDSA). */
const STRENGTH: Record<string, number> = {
  'EC-P256': 128,
  'EC-P384': 192,
  'EC-P521': 256,
  Ed25519: 128,
  Ed448: 224,
};
const CURVE_STRENGTH: Record<EcCurve, number> = { 'P-256': 128, 'P-384': 192, 'P-521': 256 };

export const DEFAULT_WEAK_SIGNATURE_HASHES = ['SHA1', 'MD5'];

/** The policy of a fleet that stored none: what `posturePolicySchema` gives an empty body (tested). */
export const DEFAULT_POSTURE_POLICY: PosturePolicy = {
  min_rsa_bits: 2048,
  min_ec_curve: 'P-256',
  weak_signature_hashes: [...DEFAULT_WEAK_SIGNATURE_HASHES],
  allowed_issuers: [],
};

export interface Finding {
  check: PostureCheck;
  /** One line for people: what was found against what the policy asks. */
  detail: string;
}

function weakKey(key: string, policy: PosturePolicy): string | undefined {
  const rsa = /^RSA-(\d+)$/.exec(key);
  if (rsa) {
    const bits = Number(rsa[1]);
    return bits < policy.min_rsa_bits ? `${key} is below the minimum of ${policy.min_rsa_bits} RSA bits` : undefined;
  }
  const strength = STRENGTH[key];
  // DSA, unnamed curves (secp256k1, brainpool) and unknown key types are outside what the policy can vouch for.
  if (strength === undefined) return `${key} is not a key type the posture policy accepts`;
  return strength < CURVE_STRENGTH[policy.min_ec_curve]
    ? `${key} is weaker than the minimum curve ${policy.min_ec_curve}`
    : undefined;
}

const DAY_MS = 86_400_000;

/**
 * The findings a certificate raises, in postureCheckNames order (the shared checks are judged
 * apart: shared-holdings.ts). `issuerNotAfter` (ISO 8601) is the issuer certificate's notAfter when
 * the policy names that certificate; without it `expires-after-issuer` is not judged. `now` (epoch
 * ms) judges `max_certificate_age_days`; without it the age is not judged.
 */
export function findingsOf(
  profile: CryptoProfile,
  policy: PosturePolicy,
  issuerNotAfter?: string,
  now?: number,
): Finding[] {
  const findings: Finding[] = [];
  const key = weakKey(profile.key, policy);
  if (key) findings.push({ check: 'weak-key', detail: key });
  if (profile.signature_hash && policy.weak_signature_hashes.includes(profile.signature_hash))
    findings.push({
      check: 'weak-signature',
      detail: `${profile.signature} uses ${profile.signature_hash}, which the policy lists as weak`,
    });
  if (policy.allowed_issuers.length > 0 && !policy.allowed_issuers.includes(profile.issuer))
    findings.push({ check: 'issuer-not-allowed', detail: `issuer ${profile.issuer} is not in allowed_issuers` });
  if (policy.max_validity_days !== undefined && profile.validity_days > policy.max_validity_days)
    findings.push({
      check: 'validity-too-long',
      detail: `valid for ${profile.validity_days} days, above the maximum of ${policy.max_validity_days}`,
    });
  if (issuerNotAfter !== undefined && Date.parse(profile.not_after) > Date.parse(issuerNotAfter))
    findings.push({
      check: 'expires-after-issuer',
      detail: `expires ${profile.not_after}, after its issuer (${issuerNotAfter})`,
    });
  const maxAge = policy.max_certificate_age_days;
  if (maxAge !== undefined && now !== undefined) {
    // notBefore to the day: the profile keeps notAfter and the whole days of the lifetime.
    const age = Math.floor((now - (Date.parse(profile.not_after) - profile.validity_days * DAY_MS)) / DAY_MS);
    if (age > maxAge)
      findings.push({ check: 'certificate-too-old', detail: `issued ${age} days ago, above the maximum of ${maxAge}` });
  }
  return findings;
}
