/**
 * A stateful AWS IoT registry behind an `aws-sdk-client-mock` IoT client, for the IoT sync's tests:
 * things (attributes, version, type) and certificate statuses by certificate id. UpdateCertificate
 * changes the status; `control.refuseUpdates` makes that many of them fail (InvalidRequestException).
 */
import {
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachThingPrincipalCommand,
  InvalidRequestException,
  type IoTClient,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import type { AwsClientStub } from 'aws-sdk-client-mock';

const meta = { $metadata: {} };

export interface FakeThing {
  attributes: Record<string, string>;
  version: number;
  thingTypeName?: string;
}

export function fakeIotRegistry(iot: AwsClientStub<IoTClient>, certificates: Map<string, string>) {
  const things = new Map<string, FakeThing>();
  const control = { refuseUpdates: 0 };
  iot.reset();
  iot.on(DescribeThingCommand).callsFake(({ thingName }) => {
    const thing = things.get(thingName);
    if (!thing) throw new ResourceNotFoundException({ message: 'no thing', ...meta });
    return { thingName, ...thing };
  });
  iot.on(CreateThingCommand).callsFake(({ thingName, thingTypeName, attributePayload }) => {
    things.set(thingName, { attributes: { ...attributePayload?.attributes }, version: 1, thingTypeName });
    return { thingName };
  });
  iot.on(UpdateThingCommand).callsFake(({ thingName, attributePayload }) => {
    const thing = things.get(thingName)!;
    Object.assign(thing.attributes, attributePayload?.attributes);
    thing.version++;
    return {};
  });
  iot.on(DescribeCertificateCommand).callsFake(({ certificateId }) => {
    const status = certificates.get(certificateId);
    if (!status) throw new ResourceNotFoundException({ message: 'no certificate', ...meta });
    return { certificateDescription: { certificateId, status } };
  });
  iot.on(UpdateCertificateCommand).callsFake(({ certificateId, newStatus }) => {
    if (control.refuseUpdates-- > 0) throw new InvalidRequestException({ message: 'refused', ...meta });
    certificates.set(certificateId, newStatus);
    return {};
  });
  iot.on(AttachThingPrincipalCommand).resolves({});
  iot.on(DetachThingPrincipalCommand).resolves({});
  return { things, control };
}
