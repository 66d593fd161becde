/**
 * Revocation reasons, apart from the slot rules so that the dashboard can import them without the
 * certificate parsing those rules need (node:crypto).
 */
/** RFC 5280 CRLReason names, in the PascalCase the contract uses. */
export const REVOCATION_REASONS = [
  'Unspecified',
  'KeyCompromise',
  'CACompromise',
  'AffiliationChanged',
  'Superseded',
  'CessationOfOperation',
  'CertificateHold',
  'RemoveFromCRL',
  'PrivilegeWithdrawn',
  'AACompromise',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** Accepts the RFC's camelCase (`keyCompromise`) as well as PascalCase. */
export function revocationReasonOf(text: string): RevocationReason | undefined {
  return REVOCATION_REASONS.find((r) => r.toLowerCase() === text.toLowerCase());
}
