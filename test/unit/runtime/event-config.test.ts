/** The event functions' configuration: read once, failing with the variable's name. */
import { ConfigError, loadIotSyncConfig, loadPublisherConfig } from '../../../functions/runtime/config';

describe('publisher configuration', () => {
  const env = { EVENT_BUS_NAME: 'bus', PUBLISH_DLQ_URL: 'https://sqs/dlq', AWS_REGION: 'eu-west-1' };

  it('reads the bus, the source (default device-manager), the DLQ and the attempts', () => {
    expect(loadPublisherConfig(env)).toEqual({
      eventBusName: 'bus',
      eventSource: 'device-manager',
      deadLetterQueueUrl: 'https://sqs/dlq',
      maxAttempts: 6,
      region: 'eu-west-1',
      eventBridgeEndpoint: undefined,
      sqsEndpoint: undefined,
      lamassuEvents: false,
    });
    expect(loadPublisherConfig({ ...env, LAMASSU_EVENTS: 'true' }).lamassuEvents).toBe(true);
    expect(loadPublisherConfig({ ...env, EVENT_SOURCE: 'acme.dm', PUBLISH_MAX_ATTEMPTS: '3' })).toMatchObject({
      eventSource: 'acme.dm',
      maxAttempts: 3,
    });
  });

  it.each([
    [{ ...env, EVENT_BUS_NAME: '' }, 'EVENT_BUS_NAME'],
    [{ EVENT_BUS_NAME: 'bus' }, 'PUBLISH_DLQ_URL'],
    [{ ...env, EVENT_SOURCE: 'aws.devices' }, 'EVENT_SOURCE'],
    [{ ...env, PUBLISH_MAX_ATTEMPTS: '0' }, 'PUBLISH_MAX_ATTEMPTS'],
  ])('fails naming the variable (%j)', (input, variable) => {
    expect(() => loadPublisherConfig(input)).toThrow(ConfigError);
    expect(() => loadPublisherConfig(input)).toThrow(new RegExp(`^configuration ${variable}:`));
  });
});

describe('IoT sync configuration', () => {
  it('is off unless IOT_SYNC_ENABLED=true, and reads keys, thing type and the decommission status', () => {
    expect(loadIotSyncConfig({})).toMatchObject({
      enabled: false,
      metadataKeys: [],
      thingTypeName: undefined,
      decommissionCertificateStatus: 'INACTIVE',
    });
    expect(
      loadIotSyncConfig({
        IOT_SYNC_ENABLED: 'true',
        IOT_METADATA_KEYS: ' firmware_version, location.building ,',
        IOT_THING_TYPE: 'DeviceManager-dev',
        IOT_DECOMMISSION_CERTIFICATE_STATUS: 'REVOKED',
        AWS_ACCOUNT_ID: '123456789012',
      }),
    ).toMatchObject({
      enabled: true,
      metadataKeys: ['firmware_version', 'location.building'],
      thingTypeName: 'DeviceManager-dev',
      decommissionCertificateStatus: 'REVOKED',
      accountId: '123456789012',
    });
  });

  it.each([
    [{ IOT_METADATA_KEYS: 'ok,not ok' }, 'IOT_METADATA_KEYS'],
    [{ IOT_THING_TYPE: 'a type' }, 'IOT_THING_TYPE'],
    [{ IOT_DECOMMISSION_CERTIFICATE_STATUS: 'DELETED' }, 'IOT_DECOMMISSION_CERTIFICATE_STATUS'],
    [{ AWS_ACCOUNT_ID: '42' }, 'AWS_ACCOUNT_ID'],
  ])('fails naming the variable (%j)', (input, variable) => {
    expect(() => loadIotSyncConfig(input)).toThrow(new RegExp(`^configuration ${variable}:`));
  });
});
