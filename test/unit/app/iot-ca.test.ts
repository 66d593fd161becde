/**
 * CA registration in AWS IoT (docs/iot-provisioning.md, CA registration): the checks made before AWS IoT
 * is called, and the real adapter on a mocked IoTClient (exact parameters, refusals mapped to 400/409).
 */
import {
  CertificateValidationException,
  GetRegistrationCodeCommand,
  IoTClient,
  RegisterCACertificateCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { iotCaService } from '../../../functions/app/iot-ca';
import { iotCaRegistry } from '../../../functions/adapters/iot/iot-ca';
import { IotCaExistsError, IotRejectedError, ValidationError } from '../../../functions/domain/errors';
import { caCertificate } from '../../support/ca-certificates';
import { certificate } from '../../support/certificates';

const iot = mockClient(IoTClient);
const meta = { $metadata: {} };
const service = () => iotCaService({ iot: iotCaRegistry({ client: new IoTClient({ region: 'eu-west-1' }) }) });
const inputs = () => iot.commandCalls(RegisterCACertificateCommand).map((c) => c.args[0].input);
const fields = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).details.map((d) => d.field);
};

beforeEach(() => {
  iot.reset();
  iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: 'code-123' });
  iot.on(RegisterCACertificateCommand).resolves({ certificateId: 'ca-1', certificateArn: 'arn:aws:iot:::cacert/ca-1' });
});

describe('CA registration', () => {
  it('gives the registration code', async () => {
    expect(await service().registrationCode()).toEqual({ registration_code: 'code-123' });
  });

  it('registers a CA with its verification certificate (DEFAULT), auto-registration and a JITP template', async () => {
    const ca = await caCertificate();
    const verification = await ca.sign('CN=code-123');
    const registered = await service().register({
      certificate_pem: ca.pem,
      verification_certificate_pem: verification,
      auto_registration: true,
      provisioning_template: 'factory-jitp',
    });
    expect(registered).toEqual({
      certificate_id: 'ca-1',
      certificate_arn: 'arn:aws:iot:::cacert/ca-1',
      mode: 'DEFAULT',
      status: 'ACTIVE',
      auto_registration: true,
      provisioning_template: 'factory-jitp',
    });
    expect(inputs()).toEqual([
      {
        caCertificate: ca.pem,
        verificationCertificate: verification,
        certificateMode: 'DEFAULT',
        setAsActive: true,
        allowAutoRegistration: true,
        registrationConfig: { templateName: 'factory-jitp' },
      },
    ]);
  });

  it('registers a CA in SNI_ONLY mode without a verification certificate', async () => {
    const ca = await caCertificate();
    await service().register({ certificate_pem: ca.pem, mode: 'SNI_ONLY', status: 'INACTIVE' });
    expect(inputs()).toEqual([
      { caCertificate: ca.pem, certificateMode: 'SNI_ONLY', setAsActive: false, allowAutoRegistration: false },
    ]);
  });

  it('refuses, before calling AWS IoT, what AWS IoT would refuse', async () => {
    const ca = await caCertificate();
    const other = await caCertificate('CN=Other CA');
    const leaf = (await certificate({ notAfter: '2030-01-01T00:00:00Z' })).pem;
    const s = service();
    expect(await fields(s.register({ certificate_pem: 'nope', mode: 'SNI_ONLY' }))).toEqual(['certificate_pem']);
    expect(await fields(s.register({ certificate_pem: leaf, mode: 'SNI_ONLY' }))).toEqual(['certificate_pem']);
    expect(await fields(s.register({ certificate_pem: ca.pem }))).toEqual(['verification_certificate_pem']);
    const foreign = await other.sign('CN=code-123');
    expect(await fields(s.register({ certificate_pem: ca.pem, verification_certificate_pem: foreign }))).toEqual([
      'verification_certificate_pem',
    ]);
    expect(
      await fields(s.register({ certificate_pem: ca.pem, mode: 'SNI_ONLY', verification_certificate_pem: foreign })),
    ).toEqual(['verification_certificate_pem']);
    expect(await fields(s.register({ certificate_pem: ca.pem, mode: 'SNI_ONLY', provisioning_template: 't' }))).toEqual(
      ['provisioning_template'],
    );
    expect(inputs()).toEqual([]);
  });

  it("maps AWS IoT's refusal to IotRejectedError (400) and a registered CA to IotCaExistsError (409)", async () => {
    const ca = await caCertificate();
    const input = { certificate_pem: ca.pem, mode: 'SNI_ONLY' as const };
    iot
      .on(RegisterCACertificateCommand)
      .rejectsOnce(new CertificateValidationException({ message: 'bad code', ...meta }))
      .rejectsOnce(new ResourceAlreadyExistsException({ message: 'exists', resourceId: 'ca-1', ...meta }));
    await expect(service().register(input)).rejects.toBeInstanceOf(IotRejectedError);
    await expect(service().register(input)).rejects.toBeInstanceOf(IotCaExistsError);
  });
});
