/**
 * IotCaRegistry on AWS IoT Core: GetRegistrationCode and RegisterCACertificate. ResourceAlreadyExists
 * becomes IotCaExistsError; AWS IoT's refusals of the certificates themselves become IotRejectedError
 * (a 400 with AWS IoT's reason), so a client's bad certificate is never a 5xx.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import type { IotCaRegistry } from '../../app/ports';
import { IotCaExistsError, IotRejectedError } from '../../domain/errors';
import { type IotCallOptions, iotCaller, nameOf } from './call';
import { iotSdk } from './sdk';

/** AWS IoT's answers about the request's certificates, not about the service. */
const REFUSALS = new Set([
  'CertificateValidationException',
  'RegistrationCodeValidationException',
  'InvalidRequestException',
  'LimitExceededException',
]);

export function iotCaRegistry({ client, ...options }: IotCallOptions & { client: IoTClient }): IotCaRegistry {
  const call = iotCaller(options);
  const { GetRegistrationCodeCommand, RegisterCACertificateCommand } = iotSdk();
  return {
    async registrationCode() {
      const out = await call('GetRegistrationCode', () => client.send(new GetRegistrationCodeCommand({})));
      return out.registrationCode ?? '';
    },

    async registerCa({ caPem, verificationPem, mode, active, autoRegistration, templateName }) {
      try {
        const out = await call('RegisterCACertificate', () =>
          client.send(
            new RegisterCACertificateCommand({
              caCertificate: caPem,
              ...(verificationPem ? { verificationCertificate: verificationPem } : {}),
              certificateMode: mode,
              setAsActive: active,
              allowAutoRegistration: autoRegistration,
              ...(templateName ? { registrationConfig: { templateName } } : {}),
            }),
          ),
        );
        return { id: out.certificateId ?? '', arn: out.certificateArn ?? '' };
      } catch (error) {
        if (nameOf(error) === 'ResourceAlreadyExistsException') throw new IotCaExistsError({ cause: error });
        if (REFUSALS.has(nameOf(error))) throw new IotRejectedError((error as Error).message, { cause: error });
        throw error;
      }
    },
  };
}
