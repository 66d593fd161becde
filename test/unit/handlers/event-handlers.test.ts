/** The stream and queue handlers around the use cases: what they read from AWS events and what they report back. */
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import type { IotSync } from '../../../functions/app/iot-sync';
import { outboxPublisher } from '../../../functions/app/publish';
import { gunzipSync, gzipSync } from 'node:zlib';
import { outboxBatch, outboxItem } from '../../../functions/adapters/dynamodb/outbox';
import type { OutboxEvent } from '../../../functions/domain/outbox';
import type { CloudEvent, PublishOutcome } from '../../../functions/app/ports';
import { handler as iotHandler, ownerOf, deviceWorkOf } from '../../../functions/handlers/events/iot-sync';
import { handler as publishHandler, outboxRecordsOf } from '../../../functions/handlers/stream/publish-outbox';
import { setIotSync } from '../../../functions/composition/iot-composition';
import { setPublisher } from '../../../functions/composition/publisher-composition';
import { loadIotSyncConfig } from '../../../functions/runtime/config';

afterEach(() => {
  setPublisher(undefined);
  setIotSync(undefined);
});

const outboxRecord = (
  seq: string,
  event: unknown,
  eventName: DynamoDBRecord['eventName'] = 'INSERT',
): DynamoDBRecord => ({
  eventName,
  dynamodb: {
    SequenceNumber: seq,
    Keys: { pk: { S: `OUTBOX#${seq}` }, sk: { S: 'OUTBOX' } },
    NewImage: {
      pk: { S: `OUTBOX#${seq}` },
      sk: { S: 'OUTBOX' },
      kind: { S: 'outbox' },
      event: { S: typeof event === 'string' ? event : JSON.stringify(event) },
      ttl: { N: '1' },
    },
  },
});
const deviceRecord = (seq: string): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: { SequenceNumber: seq, NewImage: { kind: { S: 'device' } } },
});
const evt = (id: string, subject = 'device/d1') => ({
  id,
  type: 'device.update',
  subject,
  time: '2026-03-15T10:00:00.000Z',
  data: {},
});

describe('publish-outbox handler', () => {
  it('reads only INSERTed outbox records, in stream order, and marks unreadable ones', () => {
    const records = outboxRecordsOf([
      outboxRecord('1', evt('a')),
      deviceRecord('2'),
      outboxRecord('3', evt('b'), 'MODIFY'),
      outboxRecord('4', '{nope'),
      outboxRecord('5', { id: 'x' }),
    ]);
    expect(records).toEqual([
      { position: '1', event: evt('a') },
      { position: '4', malformed: { message: 'the event attribute is not (gzip-compressed) JSON', raw: '{nope' } },
      { position: '5', malformed: { message: 'the event attribute is not an outbox event', raw: '{"id":"x"}' } },
    ]);
  });

  it(
    'reads the gzip-compressed event the repository writes (base64 ' + 'in the stream image) and marks corrupt bytes',
    () => {
      const item = outboxItem(evt('z') as OutboxEvent);
      const binary = (seq: string, bytes: Uint8Array): DynamoDBRecord => ({
        eventName: 'INSERT',
        dynamodb: {
          SequenceNumber: seq,
          NewImage: { kind: { S: 'outbox' }, event: { B: Buffer.from(bytes).toString('base64') } },
        },
      });
      const corrupt = Buffer.from('not gzip at all');
      expect(outboxRecordsOf([binary('1', item.event as Uint8Array), binary('2', corrupt)])).toEqual([
        { position: '1', event: evt('z') },
        {
          position: '2',
          malformed: { message: 'the event attribute is not (gzip-compressed) JSON', raw: corrupt.toString('base64') },
        },
      ]);
    },
  );

  it('expands a record written for several changes into their events, in order, and marks a bad list', () => {
    const events = [evt('a', 'device/1'), evt('b', 'device/2'), evt('c', 'device/3')] as OutboxEvent[];
    const batch = outboxBatch();
    batch.add(batch.encode(events));
    const [put, ...more] = batch.puts('t');
    expect(more).toEqual([]);
    expect(put!.Put.Item).toMatchObject({ pk: 'OUTBOX#a', sk: 'OUTBOX', kind: 'outbox' });
    expect(put!.Put.Item).not.toHaveProperty('event');
    const image = (seq: string, bytes: Uint8Array): DynamoDBRecord => ({
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: seq,
        NewImage: { kind: { S: 'outbox' }, events: { B: Buffer.from(bytes).toString('base64') } },
      },
    });
    const notList = gzipSync(JSON.stringify(evt('x')));
    expect(
      outboxRecordsOf([
        image('1', put!.Put.Item.events as Uint8Array),
        image('2', notList),
        image('3', gzipSync('[]')),
      ]),
    ).toEqual([
      { position: '1', events },
      {
        position: '2',
        malformed: { message: 'the events attribute is not a list of outbox events', raw: notList.toString('base64') },
      },
      {
        position: '3',
        malformed: {
          message: 'the events attribute is not a list of outbox events',
          raw: gzipSync('[]').toString('base64'),
        },
      },
    ]);
  });

  it('cuts a batch into records of bounded JSON, one event alone written as a single-event record', () => {
    const events = Array.from({ length: 5 }, (_, n) => evt(`e${n}`, `device/${n}`)) as OutboxEvent[];
    const size = JSON.stringify(events[0]).length + 1;
    const batch = outboxBatch(size * 2);
    const encoded = batch.encode(events);
    expect(batch.recordsWith(encoded)).toBe(3);
    batch.add(encoded);
    const items = batch.puts('t', 60).map((p) => p.Put.Item);
    expect(items.map((i) => i.pk)).toEqual(['OUTBOX#e0', 'OUTBOX#e2', 'OUTBOX#e4']);
    expect(
      items.map((i) => ('events' in i ? JSON.parse(gunzipSync(i.events as Uint8Array).toString()).length : 1)),
    ).toEqual([2, 2, 1]);
    expect(JSON.parse(gunzipSync(items[2]!.event as Uint8Array).toString())).toEqual(events[4]);
    expect(items[0]!.ttl).toBe(Date.parse(events[0]!.time) / 1000 + 60);
  });

  it('reports as batch item failures exactly the records neither published nor dead-lettered', async () => {
    const sent: CloudEvent[] = [];
    const bus = {
      publish: async (events: readonly CloudEvent[]): Promise<PublishOutcome[]> =>
        events.map((e) => {
          sent.push(e);
          return e.id === 'b' ? { ok: false, code: 'InvalidArgument', message: 'no', retryable: false } : { ok: true };
        }),
    };
    setPublisher(
      outboxPublisher({
        bus,
        deadLetters: { send: async () => Promise.reject(new Error('queue down')) },
        source: 'device-manager',
      }),
    );
    const result = await publishHandler({
      Records: [
        outboxRecord('10', evt('a', 'device/1')),
        outboxRecord('11', evt('b', 'device/2')),
        deviceRecord('12'),
        outboxRecord('13', evt('c', 'device/3')),
      ],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '11' }, { itemIdentifier: '13' }] });
  });

  it('reports nothing when everything is published or dead-lettered', async () => {
    const letters: unknown[] = [];
    setPublisher(
      outboxPublisher({
        bus: { publish: async (events) => events.map(() => ({ ok: true }) as const) },
        deadLetters: { send: async (l) => void letters.push(l) },
        source: 'device-manager',
      }),
    );
    expect(await publishHandler({ Records: [outboxRecord('1', evt('a')), outboxRecord('2', 'garbage')] })).toEqual({
      batchItemFailures: [],
    });
    expect(letters).toHaveLength(1);
  });
});

describe('iot-sync handler', () => {
  const message = (id: string, detail: unknown): SQSRecord =>
    ({ messageId: id, body: JSON.stringify({ 'detail-type': 'x', source: 'device-manager', detail }) }) as SQSRecord;
  const config = { ...loadIotSyncConfig({ AWS_REGION: 'eu-west-1' }), enabled: true };

  it('takes the partition and account from the function ARN and the device from the subject', () => {
    expect(ownerOf('arn:aws:lambda:eu-west-1:123456789012:function:iot-sync')).toEqual({
      partition: 'aws',
      account: '123456789012',
    });
    expect(ownerOf('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:iot-sync')).toEqual({
      partition: 'aws-us-gov',
      account: '123456789012',
    });
    expect(deviceWorkOf(JSON.stringify({ detail: { subject: 'device/a.b', type: 'device.update' } }))).toEqual({
      deviceId: 'a.b',
    });
    expect(
      deviceWorkOf(
        JSON.stringify({
          detail: {
            subject: 'device/a',
            type: 'device.identity.update',
            data: { previous: { active_version: 0 }, updated: { active_version: 1 } },
          },
        }),
      ),
    ).toEqual({
      deviceId: 'a',
      supersededIdentityVersion: 0,
    });
    expect(deviceWorkOf(JSON.stringify({ detail: { subject: 'device-group/g' } }))).toBeUndefined();
    // A posture finding changes nothing AWS IoT holds: no sync.
    const finding = { detail: { subject: 'device/a', type: 'device.finding.open', data: { check: 'weak-key' } } };
    expect(deviceWorkOf(JSON.stringify(finding))).toBeUndefined();
  });

  it('syncs each device of a batch once and reports every message of a device that failed', async () => {
    const syncDevice = jest.fn(async (id: string) => {
      if (id === 'bad') throw new Error('boom');
      return { deviceId: id, thingName: id, thing: 'updated' as const, certificate: 'none' as const, detached: [] };
    });
    const syncDms = jest.fn(async (_dms: string) => undefined);
    setIotSync({ config, sync: { syncDevice, syncDms } as unknown as IotSync });
    const result = await iotHandler(
      {
        Records: [
          message('m1', { subject: 'device/ok', type: 'device.create' }),
          message('m2', { subject: 'device/bad', type: 'device.update' }),
          message('m3', {
            subject: 'device/ok',
            type: 'device.identity.update',
            data: { previous: { active_version: 2 }, updated: { active_version: 3 } },
          }),
          message('m4', { subject: 'device/bad', type: 'device.status.update' }),
          { messageId: 'm5', body: 'not json' } as SQSRecord,
          message('m6', { subject: 'dms/x', type: 'dms.update' }),
        ],
      },
      { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f' },
    );
    expect(syncDevice.mock.calls.sort()).toEqual([
      ['bad', { supersededIdentityVersions: [] }],
      ['ok', { supersededIdentityVersions: [2] }],
    ]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m2', 'm4', 'm5']);
    // A DMS change brings the DMS's AWS IoT resources in line (docs/iot-provisioning.md).
    expect(syncDms.mock.calls).toEqual([['x']]);
  });

  it('acknowledges everything and calls nothing when the sync is disabled', async () => {
    const syncDevice = jest.fn();
    setIotSync({ config: { ...config, enabled: false }, sync: { syncDevice } as unknown as IotSync });
    expect(await iotHandler({ Records: [message('m1', { subject: 'device/a' })] }, { invokedFunctionArn: '' })).toEqual(
      { batchItemFailures: [] },
    );
    expect(syncDevice).not.toHaveBeenCalled();
  });
});
