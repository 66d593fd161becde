/**
 * The outbox publisher with the real EventBridge and SQS adapters on mocked SDK clients: the exact
 * PutEvents and SendMessage parameters, partial failures, throttling, permanent failures, ordering.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { outboxPublisher, type OutboxRecord, toCloudEvent } from '../../../functions/app/publish';
import {
  entrySize,
  eventBridgePublisher,
  MAX_REQUEST_BYTES,
} from '../../../functions/adapters/eventbridge/event-publisher';
import { sqsDeadLetterQueue } from '../../../functions/adapters/sqs/dead-letter-queue';
import type { OutboxEvent } from '../../../functions/domain/outbox';

const BUS = 'device-manager-bus';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/publish-dlq';
const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);

let sleeps: number[];
function setup(attempts = 4) {
  sleeps = [];
  const bus = eventBridgePublisher({ client: new EventBridgeClient({ region: 'eu-west-1' }), eventBusName: BUS });
  const deadLetters = sqsDeadLetterQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: DLQ });
  return outboxPublisher({
    bus,
    deadLetters,
    source: 'device-manager',
    retry: { attempts, baseMs: 100, capMs: 1000 },
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
  });
}

const event = (n: number, subject = `device/dev-${n}`, data: unknown = { n }): OutboxEvent => ({
  id: `evt-${n}`,
  type: 'device.update',
  subject,
  time: `2026-03-15T10:00:00.${String(n).padStart(3, '0')}Z`,
  data,
});
const records = (events: OutboxEvent[]): OutboxRecord[] =>
  events.map((e, i) => ({ position: String(1000 + i), event: e }));

const entryOf = (e: OutboxEvent): PutEventsRequestEntry => ({
  EventBusName: BUS,
  Source: 'device-manager',
  DetailType: e.type,
  Detail: JSON.stringify({
    specversion: '1.0',
    id: e.id,
    source: 'device-manager',
    type: e.type,
    subject: e.subject,
    time: e.time,
    datacontenttype: 'application/json',
    data: e.data,
  }),
  Time: new Date(e.time),
});
const sentEntries = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
const ok = (n: number) => ({
  FailedEntryCount: 0,
  Entries: Array.from({ length: n }, (_, i) => ({ EventId: `eb-${i}` })),
});

beforeEach(() => {
  eventBridge.reset();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

describe('CloudEvents envelope', () => {
  it('wraps an outbox event with a stable id, the configured source and the event type', () => {
    const e = event(1);
    expect(toCloudEvent(e, 'acme.dm')).toEqual({
      specversion: '1.0',
      id: 'evt-1',
      source: 'acme.dm',
      type: 'device.update',
      subject: 'device/dev-1',
      time: e.time,
      datacontenttype: 'application/json',
      data: { n: 1 },
    });
  });
});

describe('publishing', () => {
  it('sends one PutEvents of every entry, in stream order, with Source, DetailType, Detail and Time', async () => {
    eventBridge.on(PutEventsCommand).resolves(ok(3));
    const events = [event(1), event(2), event(3)];
    const report = await setup().publish(records(events));
    expect(sentEntries()).toEqual([events.map(entryOf)]);
    expect(report).toEqual({ published: 3, deadLettered: 0, sent: 3, retries: 0, failed: [] });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('splits into requests of at most 10 entries', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ok(input.Entries.length));
    const events = Array.from({ length: 23 }, (_, i) => event(i));
    await setup().publish(records(events));
    expect(sentEntries().map((e) => e.length)).toEqual([10, 10, 3]);
    expect(
      sentEntries()
        .flat()
        .map((e) => JSON.parse(e.Detail!).id),
    ).toEqual(events.map((e) => e.id));
  });

  it('keeps a request under 256 KiB', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ok(input.Entries.length));
    const big = 'x'.repeat(100 * 1024);
    await setup().publish(records([event(1, 'device/a', big), event(2, 'device/b', big), event(3, 'device/c', big)]));
    const requests = sentEntries();
    expect(requests.map((r) => r.length)).toEqual([2, 1]);
    for (const request of requests)
      expect(request.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
  });

  it('re-sends only the failed entries of a partial failure', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
          { EventId: 'c' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
        ],
      })
      .resolves(ok(2));
    const events = [event(1), event(2), event(3), event(4)];
    const report = await setup().publish(records(events));
    expect(sentEntries()).toEqual([events.map(entryOf), [entryOf(events[1]!), entryOf(events[3]!)]]);
    expect(report).toEqual({ published: 4, deadLettered: 0, sent: 6, retries: 2, failed: [] });
    expect(sleeps).toEqual([100]);
  });

  it('retries a throttled request with growing backoff, then succeeds', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    eventBridge.on(PutEventsCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves(ok(2));
    const events = [event(1), event(2)];
    const report = await setup().publish(records(events));
    expect(sentEntries()).toEqual([events.map(entryOf), events.map(entryOf), events.map(entryOf)]);
    expect(sleeps).toEqual([100, 200]);
    expect(report).toMatchObject({ published: 2, retries: 4, deadLettered: 0, failed: [] });
  });

  it('sends a permanent failure to the dead-letter queue with the reason, without retrying it', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed' }],
    });
    const events = [event(1), event(2)];
    const report = await setup().publish(records(events));
    expect(sentEntries()).toHaveLength(1);
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      QueueUrl: DLQ,
      MessageBody: JSON.stringify({
        reason: { code: 'MalformedDetail', message: 'Detail is malformed', attempts: 1 },
        event: toCloudEvent(events[1]!, 'device-manager'),
        record: { position: '1001' },
      }),
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'MalformedDetail' },
        event_id: { DataType: 'String', StringValue: 'evt-2' },
        event_type: { DataType: 'String', StringValue: 'device.update' },
      },
    });
    expect(report).toEqual({ published: 1, deadLettered: 1, sent: 2, retries: 0, failed: [] });
  });

  it('dead-letters an entry whose retries run out, saying so', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    });
    const report = await setup(3).publish(records([event(1)]));
    expect(sentEntries()).toHaveLength(3);
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!);
    expect(body.reason).toEqual({
      code: 'ThrottlingException',
      message: 'retries exhausted after 3 attempts: Rate exceeded',
      attempts: 3,
    });
    expect(report).toMatchObject({ published: 0, deadLettered: 1, retries: 2, failed: [] });
  });

  it('dead-letters a whole request that fails for good (access denied)', async () => {
    eventBridge.on(PutEventsCommand).rejects(
      Object.assign(new Error('not allowed'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const report = await setup().publish(records([event(1), event(2)]));
    expect(sentEntries()).toHaveLength(1);
    expect(
      sqs.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!).reason.code),
    ).toEqual(['AccessDeniedException', 'AccessDeniedException']);
    expect(report.deadLettered).toBe(2);
  });

  it('dead-letters an entry over 256 KiB without sending it', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ok(input.Entries.length));
    const report = await setup().publish(records([event(1, 'device/a', 'x'.repeat(MAX_REQUEST_BYTES)), event(2)]));
    expect(
      sentEntries()
        .flat()
        .map((e) => JSON.parse(e.Detail!).id),
    ).toEqual(['evt-2']);
    const call = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    const body = JSON.parse(call.MessageBody!);
    expect(body.reason.code).toBe('EntryTooLarge');
    // Too large for SQS too: the event is kept without its data (the outbox record still has it).
    expect(body.event).toEqual(expect.objectContaining({ id: 'evt-1', data_omitted: true }));
    expect(body.event.data).toBeUndefined();
    expect(report).toMatchObject({ published: 1, deadLettered: 1 });
  });

  it('dead-letters a malformed record and publishes the rest', async () => {
    eventBridge.on(PutEventsCommand).resolves(ok(1));
    const report = await setup().publish([
      { position: '7', malformed: { message: 'the event attribute is not JSON', raw: '{oops' } },
      { position: '8', event: event(1) },
    ]);
    expect(JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!)).toEqual({
      reason: { code: 'MalformedOutboxRecord', message: 'the event attribute is not JSON', attempts: 0 },
      record: { position: '7', raw: '{oops' },
    });
    expect(report).toEqual({ published: 1, deadLettered: 1, sent: 1, retries: 0, failed: [] });
  });

  it('reports the record and everything after it when the dead-letter queue fails too', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'InvalidArgument', ErrorMessage: 'bad' }, { EventId: 'c' }],
    });
    sqs.on(SendMessageCommand).rejects(new Error('sqs down'));
    const report = await setup().publish(records([event(1), event(2), event(3), event(4, 'device/dev-1')]));
    expect(report.failed).toEqual(['1001', '1002', '1003']);
    expect(report.published).toBe(1);
  });

  it('publishes a record of several changes as the same entries, in order, as one record an event', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ok(input.Entries.length));
    const events = Array.from({ length: 12 }, (_, n) => event(n + 1, `device/dev-${n % 11}`));
    const one = await setup().publish(records(events));
    const single = sentEntries();
    eventBridge.resetHistory();
    const batched = await setup().publish([
      { position: '1', events: events.slice(0, 5) },
      { position: '2', events: events.slice(5) },
    ]);
    expect(sentEntries()).toEqual(single);
    expect(single.flat()).toEqual(events.map(entryOf));
    expect(batched).toEqual({ ...one, failed: [] });
  });

  it('reports a record of several changes for redelivery unless every one of its events went out', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) =>
        JSON.parse(e.Detail!).id === 'evt-3' ? { ErrorCode: 'InvalidArgument', ErrorMessage: 'bad' } : { EventId: 'x' },
      ),
    }));
    sqs.on(SendMessageCommand).rejects(new Error('sqs down'));
    const report = await setup().publish([
      { position: '1', events: [event(1), event(2)] },
      { position: '2', events: [event(3), event(4)] },
    ]);
    expect(report.failed).toEqual(['2']);
    expect(report.published).toBe(2);
  });

  it('never lets an event overtake an unfinished earlier event of the same subject', async () => {
    // a1 fails once; a2 (same device) must wait for it, while b1 goes along with a1.
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'b1' }],
      })
      .callsFake((input: { Entries: unknown[] }) => ok(input.Entries.length));
    const a1 = event(1, 'device/a');
    const a2 = event(2, 'device/a');
    const b1 = event(3, 'device/b');
    await setup().publish(records([a1, a2, b1]));
    expect(sentEntries().map((r) => r.map((e) => JSON.parse(e.Detail!).id))).toEqual([
      ['evt-1', 'evt-3'],
      ['evt-1'],
      ['evt-2'],
    ]);
  });
});
