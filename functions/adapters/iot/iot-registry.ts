/**
 * IotRegistry on AWS IoT Core: SDK exceptions become results or domain errors at this boundary
 * (ResourceNotFound → undefined, ResourceAlreadyExists → 'exists', VersionConflict →
 * IotVersionConflictError), and throttling or a transient service error is retried with backoff.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import type { IotCertificateStatus, IotRegistry } from '../../app/ports';
import { IotVersionConflictError } from '../../domain/errors';
import { type IotCallOptions, iotCaller, nameOf } from './call';
import { iotSdk } from './sdk';

export { DEFAULT_IOT_RETRY } from './call';

export interface IotRegistryOptions extends IotCallOptions {
  client: IoTClient;
}

export function iotRegistry({ client, log = () => undefined, ...options }: IotRegistryOptions): IotRegistry {
  const call = iotCaller({ ...options, log });
  // The SDK's commands, loaded with the client (sdk.ts), not at module load.
  const {
    AttachThingPrincipalCommand,
    CreateThingCommand,
    DescribeCertificateCommand,
    DescribeThingCommand,
    DetachThingPrincipalCommand,
    RegisterCertificateCommand,
    RegisterCertificateWithoutCACommand,
    UpdateCertificateCommand,
    UpdateThingCommand,
  } = iotSdk();

  return {
    async describeThing(thingName) {
      try {
        const out = await call('DescribeThing', () => client.send(new DescribeThingCommand({ thingName })));
        return {
          name: out.thingName ?? thingName,
          version: out.version ?? 0,
          attributes: out.attributes ?? {},
          ...(out.thingTypeName ? { thingTypeName: out.thingTypeName } : {}),
        };
      } catch (error) {
        if (nameOf(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },

    async createThing(thingName, attributes, thingTypeName) {
      try {
        await call('CreateThing', () =>
          client.send(
            new CreateThingCommand({
              thingName,
              ...(thingTypeName ? { thingTypeName } : {}),
              attributePayload: { attributes },
            }),
          ),
        );
        return 'created';
      } catch (error) {
        // Same name, other configuration (the same configuration succeeds): the caller reads and updates it.
        if (nameOf(error) === 'ResourceAlreadyExistsException') return 'exists';
        throw error;
      }
    },

    async updateThing(thingName, attributes, expectedVersion, thingTypeName) {
      try {
        await call('UpdateThing', () =>
          client.send(
            new UpdateThingCommand({
              thingName,
              ...(thingTypeName ? { thingTypeName } : {}),
              attributePayload: { attributes, merge: true },
              expectedVersion,
            }),
          ),
        );
      } catch (error) {
        if (nameOf(error) === 'VersionConflictException')
          throw new IotVersionConflictError(thingName, { cause: error });
        throw error;
      }
    },

    async describeCertificate(certificateId) {
      try {
        const out = await call('DescribeCertificate', () =>
          client.send(new DescribeCertificateCommand({ certificateId })),
        );
        return { id: certificateId, status: (out.certificateDescription?.status ?? 'ACTIVE') as IotCertificateStatus };
      } catch (error) {
        if (nameOf(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },

    async registerCertificate(certificatePem, withCa) {
      try {
        const out = withCa
          ? await call('RegisterCertificate', () =>
              client.send(new RegisterCertificateCommand({ certificatePem, status: 'ACTIVE' })),
            )
          : await call('RegisterCertificateWithoutCA', () =>
              client.send(new RegisterCertificateWithoutCACommand({ certificatePem, status: 'ACTIVE' })),
            );
        return { id: out.certificateId ?? '' };
      } catch (error) {
        // Registered meanwhile (another sync of the device, or by hand): the caller reads it.
        if (nameOf(error) === 'ResourceAlreadyExistsException') return 'exists';
        throw error;
      }
    },

    async updateCertificate(certificateId, newStatus) {
      try {
        await call('UpdateCertificate', () => client.send(new UpdateCertificateCommand({ certificateId, newStatus })));
      } catch (error) {
        // The certificate reached a status it cannot leave (e.g. REVOKED) meanwhile: nothing left to do.
        if (nameOf(error) !== 'CertificateStateException') throw error;
        log('iot: certificate status cannot change; left as it is', {
          certificateId,
          newStatus,
          error: (error as Error).message,
        });
      }
    },

    async attachPrincipal(thingName, principal) {
      // Attaching an attached principal succeeds: idempotent as it is.
      await call('AttachThingPrincipal', () => client.send(new AttachThingPrincipalCommand({ thingName, principal })));
    },

    async detachPrincipal(thingName, principal) {
      try {
        await call('DetachThingPrincipal', () =>
          client.send(new DetachThingPrincipalCommand({ thingName, principal })),
        );
      } catch (error) {
        if (nameOf(error) !== 'ResourceNotFoundException') throw error;
      }
    },
  };
}
