/** The posture checks, in the order findings are listed (apart from posture.ts: no schema library here). */
export const postureCheckNames = [
  'weak-key',
  'weak-signature',
  'shared-certificate',
  'shared-key',
  'issuer-not-allowed',
  'validity-too-long',
  'expires-after-issuer',
  'certificate-too-old',
] as const;
export type PostureCheck = (typeof postureCheckNames)[number];
