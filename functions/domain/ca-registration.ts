/**
 * Registering a CA in AWS IoT (docs/iot-provisioning.md, CA registration): the request, and the checks
 * made before AWS IoT is called, so that a certificate that is no CA or a verification certificate the
 * CA did not sign is a 400 naming the field rather than AWS IoT's refusal. The request's schema is in
 * ca-registration-schema.ts, so a route without a body (the registration code) loads no zod.
 */
import { X509Certificate } from 'node:crypto';
import { type FieldProblem, ValidationError } from './errors';

/** AWS IoT: `DEFAULT` needs a verification certificate (proof of the CA's key); `SNI_ONLY` does not. */
export const CA_MODES = ['DEFAULT', 'SNI_ONLY'] as const;
/** A PEM certificate is a few KB; AWS IoT takes at most 65536 characters. */
export const MAX_PEM = 65536;

export interface RegisterCaInput {
  certificate_pem: string;
  mode?: (typeof CA_MODES)[number];
  verification_certificate_pem?: string;
  status?: 'ACTIVE' | 'INACTIVE';
  auto_registration?: boolean;
  provisioning_template?: string;
}

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** What AWS IoT would refuse, found here: one problem per field. */
export function caRegistrationProblems(input: RegisterCaInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const ca = parse(input.certificate_pem);
  if (!ca) problems.push({ field: 'certificate_pem', problem: 'is not a PEM X.509 certificate' });
  else if (!ca.ca)
    problems.push({ field: 'certificate_pem', problem: 'is not a CA certificate (basicConstraints CA)' });
  const mode = input.mode ?? 'DEFAULT';
  const pem = input.verification_certificate_pem;
  if (mode === 'DEFAULT' && pem === undefined)
    problems.push({ field: 'verification_certificate_pem', problem: 'is required in DEFAULT mode' });
  if (mode === 'SNI_ONLY' && pem !== undefined)
    problems.push({ field: 'verification_certificate_pem', problem: 'is not used in SNI_ONLY mode' });
  if (mode === 'DEFAULT' && pem !== undefined) {
    const verification = parse(pem);
    if (!verification)
      problems.push({ field: 'verification_certificate_pem', problem: 'is not a PEM X.509 certificate' });
    else if (ca?.ca && !(verification.checkIssued(ca) && verification.verify(ca.publicKey)))
      problems.push({ field: 'verification_certificate_pem', problem: 'is not signed by the CA certificate' });
  }
  if (input.provisioning_template !== undefined && input.auto_registration !== true)
    problems.push({ field: 'provisioning_template', problem: 'needs auto_registration true' });
  return problems;
}

export function assertCaRegistration(input: RegisterCaInput): void {
  const problems = caRegistrationProblems(input);
  if (problems.length > 0) throw new ValidationError('invalid CA registration', problems);
}
