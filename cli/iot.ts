/**
 * `device-manager iot registration-code|register-ca`: CA registration in AWS IoT over the API
 * (docs/iot-provisioning.md, CA registration). In DEFAULT mode AWS IoT wants proof that the caller holds
 * the CA's key: a verification certificate, signed by the CA, whose common name is the account's
 * registration code. Without one (and without `--sni-only`) the command prints the code and the openssl
 * commands that make it, and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors';
import { refused } from './export';
import type { ApiClient } from './http-client';

export interface RegisterCaOptions {
  caCertificate: string;
  verificationCertificate?: string;
  sniOnly?: boolean;
  inactive?: boolean;
  autoRegistration?: boolean;
  provisioningTemplate?: string;
}

export interface RegisteredCa {
  certificate_id: string;
  certificate_arn: string;
  mode: string;
  status: string;
  auto_registration: boolean;
  provisioning_template?: string;
}

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`iot register-ca: ${option} ${file}: ${(error as Error).message}`);
  }
}

export async function registrationCode(client: ApiClient): Promise<string> {
  const reply = await client.send('GET', '/v2/iot/registration-code');
  if (reply.status !== 200) throw refused('iot registration-code', reply);
  return (reply.body as { registration_code: string }).registration_code;
}

/** The steps that make a verification certificate for `code` with the CA's key (AWS IoT's documented flow). */
export function verificationSteps(code: string, caFile: string): string {
  return [
    'AWS IoT needs a verification certificate (DEFAULT mode), or pass --sni-only. With the CA key:',
    '  openssl genrsa -out verification.key 2048',
    `  openssl req -new -key verification.key -subj "/CN=${code}" -out verification.csr`,
    `  openssl x509 -req -in verification.csr -CA ${caFile} -CAkey <the CA key> -CAcreateserial \\`,
    '    -out verification.pem -days 1 -sha256',
    `then: iot register-ca --ca-certificate ${caFile} --verification-certificate verification.pem`,
  ].join('\n');
}

/** The request body of `iot register-ca`, or a UsageError for options that cannot go together. */
export function registerCaRequest(options: RegisterCaOptions): Record<string, unknown> {
  if (options.sniOnly && options.verificationCertificate)
    throw new UsageError('iot register-ca: --sni-only takes no --verification-certificate');
  if (options.provisioningTemplate && !options.autoRegistration)
    throw new UsageError('iot register-ca: --provisioning-template needs --auto-registration');
  return {
    certificate_pem: readPem('--ca-certificate', options.caCertificate),
    mode: options.sniOnly ? 'SNI_ONLY' : 'DEFAULT',
    ...(options.verificationCertificate
      ? { verification_certificate_pem: readPem('--verification-certificate', options.verificationCertificate) }
      : {}),
    status: options.inactive ? 'INACTIVE' : 'ACTIVE',
    auto_registration: options.autoRegistration === true,
    ...(options.provisioningTemplate ? { provisioning_template: options.provisioningTemplate } : {}),
  };
}

/**
 * Registers the CA; 'needs-verification' (nothing sent but the code's read) when DEFAULT mode has no
 * verification certificate: `steps` says how to make one.
 */
export async function registerCa(
  client: ApiClient,
  options: RegisterCaOptions,
): Promise<{ registered: RegisteredCa } | { steps: string }> {
  const body = registerCaRequest(options);
  if (!options.sniOnly && !options.verificationCertificate)
    return { steps: verificationSteps(await registrationCode(client), options.caCertificate) };
  const reply = await client.send('POST', '/v2/iot/ca-certificates', { body });
  if (reply.status !== 201) throw refused('iot register-ca', reply);
  return { registered: reply.body as RegisteredCa };
}

/** One line: what was registered. */
export function registeredLine(ca: RegisteredCa): string {
  return (
    `CA ${ca.certificate_id} registered: ${ca.mode} ${ca.status}` +
    `${ca.auto_registration ? ' auto-registration' : ''}` +
    `${ca.provisioning_template ? ` template ${ca.provisioning_template}` : ''} (${ca.certificate_arn})`
  );
}
