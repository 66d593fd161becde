/**
 * The certificate intake over an index that lags (the engine's index-lag mode, with its clock moved
 * by the test): a REVOKED status arriving right after a bind does not find the version through the
 * serial index. It is not dropped: the SQS handler reports it as a batch item failure (delivered
 * again by the queue), and the redelivery after the lag revokes the device. A serial still unknown
 * once the retry window has closed is acknowledged and counted.
 */
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent, SQSRecord } from 'aws-lambda';
import { parseCertificate } from '../../../functions/domain/certificate';
import { firstSeenOf, handler } from '../../../functions/handlers/events/certificate-status';
import { createServices, type Services, setServices } from '../../../functions/composition/composition';
import { DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS, loadConfig } from '../../../functions/runtime/config';
import { METRIC, metrics } from '../../../functions/runtime/observability';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { freshTable, startTestEngine } from '../../support/dynamo';

const LAG = 60_000;
let t = 5_000_000;
let engine: Engine;
let services: Services;
beforeAll(async () => {
  engine = await startTestEngine({ indexLagMs: LAG, indexLagClock: () => t });
  const table = await freshTable(engine);
  services = createServices(
    loadConfig({ TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: engine.endpoint, AWS_REGION: 'us-east-1' }),
  );
  setServices(services);
});
afterAll(async () => {
  setServices(undefined);
  await engine.stop();
});
afterEach(() => {
  delete process.env.UNKNOWN_SERIAL_RETRY_SECONDS;
  jest.restoreAllMocks();
});

/** The SQS message the rule's queue target delivers: the EventBridge event as its body. */
function message(updated: Record<string, unknown>, sentAt = Date.now()): SQSRecord {
  const event: EventBridgeEvent<string, unknown> = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'certificate.status.update',
    source: 'lamassu.ca',
    account: '123456789012',
    time: new Date(sentAt).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      specversion: '1.0',
      id: randomUUID(),
      source: 'lamassu.ca',
      type: 'certificate.status.update',
      data: { previous: {}, updated },
    },
  };
  return {
    messageId: randomUUID(),
    receiptHandle: 'r',
    body: JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAt),
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: String(sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:certificate-status',
    awsRegion: 'us-east-1',
  };
}

it('a revocation right after a bind is retried, not dropped, and lands once the index has the version', async () => {
  const cert = await certificate({ notAfter: new Date(Date.now() + 200 * 86_400_000) });
  await services.devices.register({ id: 'lag-1', dms_id: 'dms-lag' });
  await services.devices.bind('lag-1', 'identity', { type: 'x509', certificate: parseCertificate(cert.pem) });
  const added = jest.spyOn(metrics, 'addMetric');
  const revoke = message({ serial_number: cert.serial, status: 'REVOKED', revocation_reason: 'KeyCompromise' });

  // The serial index does not have the version yet: a batch item failure, nothing counted as unknown.
  expect(await handler({ Records: [revoke] })).toEqual({ batchItemFailures: [{ itemIdentifier: revoke.messageId }] });
  expect(added).not.toHaveBeenCalledWith(METRIC.unknownSerials, expect.anything(), expect.anything());
  expect((await services.devices.get('lag-1')).status).toBe('ACTIVE');

  // The queue delivers it again; by then the index has caught up.
  t += LAG;
  expect(
    await handler({ Records: [{ ...revoke, attributes: { ...revoke.attributes, ApproximateReceiveCount: '2' } }] }),
  ).toEqual({ batchItemFailures: [] });
  expect(await services.devices.get('lag-1')).toMatchObject({ status: 'REVOKED', identity: { status: 'REVOKED' } });
  expect((await services.devices.slotVersion('lag-1', 'identity', 0)).revocation_reason).toBe('KeyCompromise');
});

it(
  'a serial still unknown when the window has closed is acknowledged ' +
    'and counted; UNKNOWN_SERIAL_RETRY_SECONDS sets the window',
  async () => {
    const added = jest.spyOn(metrics, 'addMetric');
    const young = message(
      { serial_number: 'feedface01', status: 'REVOKED' },
      Date.now() - (DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS - 60) * 1000,
    );
    const old = message(
      { serial_number: 'feedface02', status: 'REVOKED' },
      Date.now() - (DEFAULT_UNKNOWN_SERIAL_RETRY_SECONDS + 1) * 1000,
    );
    expect(await handler({ Records: [young, old] })).toEqual({
      batchItemFailures: [{ itemIdentifier: young.messageId }],
    });
    expect(added.mock.calls.filter(([name]) => name === METRIC.unknownSerials)).toHaveLength(1);

    process.env.UNKNOWN_SERIAL_RETRY_SECONDS = '0';
    expect(await handler({ Records: [message({ serial_number: 'feedface03', status: 'REVOKED' })] })).toEqual({
      batchItemFailures: [],
    });
    expect(added.mock.calls.filter(([name]) => name === METRIC.unknownSerials)).toHaveLength(2);
  },
);

it(
  'an unreadable message or event is acknowledged; a failing ' +
    'use case is a batch item failure (retried, then dead-lettered)',
  async () => {
    const unreadable = { ...message({}), body: '{' };
    const invalid = message({ serial_number: 'zz', status: 'SUSPENDED' });
    expect(await handler({ Records: [unreadable, invalid] })).toEqual({ batchItemFailures: [] });

    jest
      .spyOn(services.devices, 'applyCertificateStatus')
      .mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const failing = message({ serial_number: 'ab12', status: 'REVOKED' });
    const next = message({ serial_number: 'ab13', status: 'REVOKED' }, Date.now() - 3_600_000);
    expect(await handler({ Records: [failing, next] })).toEqual({
      batchItemFailures: [{ itemIdentifier: failing.messageId }],
    });
  },
);

it('the window runs from when the message entered the queue, else from the event time', () => {
  expect(
    firstSeenOf(
      { attributes: { SentTimestamp: '1700000000000' } as SQSRecord['attributes'] },
      { time: '2020-01-01T00:00:00Z' },
    ),
  ).toBe(1_700_000_000_000);
  expect(firstSeenOf({ attributes: {} as SQSRecord['attributes'] }, { time: '2020-01-01T00:00:00Z' })).toBe(
    Date.parse('2020-01-01T00:00:00Z'),
  );
  expect(firstSeenOf({ attributes: {} as SQSRecord['attributes'] }, { time: 'nonsense' }, 42)).toBe(42);
});
