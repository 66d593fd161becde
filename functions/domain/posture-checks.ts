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
  // Judged with the IoT sync only (iot-findings.ts): listed always, 0 without it.
  'revoked-still-active-in-iot',
] as const;
export type PostureCheck = (typeof postureCheckNames)[number];
