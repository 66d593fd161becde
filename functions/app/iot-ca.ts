/** CA registration in AWS IoT (docs/iot-provisioning.md, CA registration): checked here, then registered. */
import { assertCaRegistration, type RegisterCaInput } from '../domain/ca-registration';
import type { IotCaRegistry } from './ports';

export interface RegisteredCa {
  certificate_id: string;
  certificate_arn: string;
  mode: 'DEFAULT' | 'SNI_ONLY';
  status: 'ACTIVE' | 'INACTIVE';
  auto_registration: boolean;
  provisioning_template?: string;
}

export type IotCaService = ReturnType<typeof iotCaService>;

export function iotCaService({ iot }: { iot: IotCaRegistry }) {
  return {
    async registrationCode(): Promise<{ registration_code: string }> {
      return { registration_code: await iot.registrationCode() };
    },

    async register(input: RegisterCaInput): Promise<RegisteredCa> {
      assertCaRegistration(input);
      const mode = input.mode ?? 'DEFAULT';
      const status = input.status ?? 'ACTIVE';
      const autoRegistration = input.auto_registration ?? false;
      const { id, arn } = await iot.registerCa({
        caPem: input.certificate_pem,
        ...(input.verification_certificate_pem ? { verificationPem: input.verification_certificate_pem } : {}),
        mode,
        active: status === 'ACTIVE',
        autoRegistration,
        ...(input.provisioning_template ? { templateName: input.provisioning_template } : {}),
      });
      return {
        certificate_id: id,
        certificate_arn: arn,
        mode,
        status,
        auto_registration: autoRegistration,
        ...(input.provisioning_template ? { provisioning_template: input.provisioning_template } : {}),
      };
    },
  };
}
