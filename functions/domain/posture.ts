/**
 * The fleet posture policy's schema (the body of `PUT /v2/posture/policy`). The rules it drives live
 * in posture-rules.ts, which loads no schema library: every device write judges findings.
 */
import {
  _default,
  array,
  enum as enumOf,
  type infer as Infer,
  int,
  maximum,
  maxLength,
  minimum,
  minLength,
  optional,
  regex,
  strictObject,
  string,
} from './zod-mini';
import { DEFAULT_WEAK_SIGNATURE_HASHES, EC_CURVES } from './posture-rules';

export {
  DEFAULT_POSTURE_POLICY,
  DEFAULT_WEAK_SIGNATURE_HASHES,
  EC_CURVES,
  type EcCurve,
  type Finding,
  findingsOf,
} from './posture-rules';

export { type PostureCheck, postureCheckNames } from './posture-checks';

const hashName = string().check(
  regex(/^[A-Z0-9]{2,16}$/, 'must be a hash name in capitals without a dash, like SHA1 or MD5'),
  maxLength(16),
);
const days = () => optional(int().check(minimum(1), maximum(36525)));

/** The policy body; omitted fields take the defaults (minimum RSA 2048 bits, P-256, SHA-1 and MD5 weak). */
export const posturePolicySchema = strictObject({
  min_rsa_bits: _default(int().check(minimum(512), maximum(16384)), 2048),
  min_ec_curve: _default(enumOf(EC_CURVES), 'P-256'),
  weak_signature_hashes: _default(array(hashName).check(maxLength(16)), [...DEFAULT_WEAK_SIGNATURE_HASHES]),
  /** No limit when absent. */
  max_validity_days: days(),
  /** No limit when absent; judged against a clock, so not by findingsOf. */
  max_certificate_age_days: days(),
  /** Issuer names as the inventory prints them (DN, then `keyid:<hex>` when known); empty = any issuer. */
  allowed_issuers: _default(array(string().check(minLength(1), maxLength(2048))).check(maxLength(100)), []),
  /**
   * PEM certificates of the issuing CAs: a certificate one of them issued (same DN, same key id when
   * both name one) that expires after it raises `expires-after-issuer`. Absent: that check is not judged.
   */
  issuer_certificates: optional(array(string().check(minLength(1), maxLength(16384))).check(maxLength(20))),
});
export type PosturePolicy = Infer<typeof posturePolicySchema>;
