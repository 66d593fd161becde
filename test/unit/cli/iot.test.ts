/** `device-manager iot register-ca`: the request it sends, the options it refuses, the openssl steps it prints. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../cli/errors';
import { registerCaRequest, registeredLine, verificationSteps } from '../../../cli/iot';

const dir = mkdtempSync(join(tmpdir(), 'cli-iot-'));
const ca = join(dir, 'ca.pem');
const proof = join(dir, 'verification.pem');
writeFileSync(ca, 'CA PEM');
writeFileSync(proof, 'PROOF PEM');

describe('iot register-ca', () => {
  it('sends the files and the options as the API names them', () => {
    expect(registerCaRequest({ caCertificate: ca, verificationCertificate: proof })).toEqual({
      certificate_pem: 'CA PEM',
      mode: 'DEFAULT',
      verification_certificate_pem: 'PROOF PEM',
      status: 'ACTIVE',
      auto_registration: false,
    });
    expect(
      registerCaRequest({
        caCertificate: ca,
        sniOnly: true,
        inactive: true,
        autoRegistration: true,
        provisioningTemplate: 'factory-1',
      }),
    ).toEqual({
      certificate_pem: 'CA PEM',
      mode: 'SNI_ONLY',
      status: 'INACTIVE',
      auto_registration: true,
      provisioning_template: 'factory-1',
    });
  });

  it.each([
    [{ caCertificate: ca, sniOnly: true, verificationCertificate: proof }, '--sni-only takes no'],
    [{ caCertificate: ca, sniOnly: true, provisioningTemplate: 't' }, '--provisioning-template needs'],
    [{ caCertificate: join(dir, 'missing.pem'), sniOnly: true }, '--ca-certificate'],
  ])('refuses %j before any request', (options, message) => {
    expect(() => registerCaRequest(options)).toThrow(UsageError);
    expect(() => registerCaRequest(options)).toThrow(message);
  });

  it('prints the openssl steps for the code, and one line for a registered CA', () => {
    const steps = verificationSteps('abc123', 'ca.pem');
    expect(steps).toContain('-subj "/CN=abc123"');
    expect(steps).toContain('-CA ca.pem');
    expect(
      registeredLine({
        certificate_id: 'f00',
        certificate_arn: 'arn:aws:iot:eu-west-1:1:cacert/f00',
        mode: 'SNI_ONLY',
        status: 'ACTIVE',
        auto_registration: true,
        provisioning_template: 'factory-1',
      }),
    ).toBe(
      'CA f00 registered: SNI_ONLY ACTIVE auto-registration template factory-1 (arn:aws:iot:eu-west-1:1:cacert/f00)',
    );
  });
});
