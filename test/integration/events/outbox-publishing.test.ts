/**
 * The outbox publisher on the embedded engine's change feed: 2,000 mixed changes through the device
 * use cases, published by the real stream handler through the real EventBridge adapter to a fake
 * EventBridge at the SDK boundary that fails 10% of the entries at random (and now and then times
 * out after accepting a request). Every change is exactly one event in the device history and its
 * outbox events are each published at least once with their stable id: after de-duplication by id,
 * published = outbox records written; none lost, none dead-lettered, each device's events in order.
 */
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { deviceService } from '../../../functions/app/devices';
import { outboxPublisher } from '../../../functions/app/publish';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { eventBridgePublisher } from '../../../functions/adapters/eventbridge/event-publisher';
import { sqsDeadLetterQueue } from '../../../functions/adapters/sqs/dead-letter-queue';
import { parseCertificate, type ParsedCertificate } from '../../../functions/domain/certificate';
import type { Device, DeviceEvent, DeviceEventType } from '../../../functions/domain/device';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import { handler as publishHandler, outboxRecordsOf } from '../../../functions/handlers/stream/publish-outbox';
import { systemClock } from '../../../functions/composition/composition';
import { setPublisher } from '../../../functions/composition/publisher-composition';
import type { Engine } from '@device-manager/local-engine';
import { startStreamFeed } from '@device-manager/local-engine/stream-feed';
import { certificate, newKeyPair } from '../../support/certificates';
import { freshTable, startTestEngine, type TestTable } from '../../support/dynamo';
import { bySize } from '../../support/tier';

/** 400 changes exercise every kind of change and fault; the soak tier runs 2,000. */
const CHANGES = bySize(400, 2000);
const DEVICES = bySize(80, 160);
const WORKERS = 8;
const ENTRY_FAILURE_RATE = 0.1;
/** Requests that time out after EventBridge took them: the retry publishes their entries twice. */
const AMBIGUOUS_TIMEOUT_RATE = 0.01;

/** mulberry32: a seeded generator, so a failing run can be replayed. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.PUBLISH_TEST_SEED ?? 20260315);

let engine: Engine;
let table: TestTable;
beforeAll(async () => {
  engine = await startTestEngine();
  table = await freshTable(engine);
});
afterAll(async () => {
  setPublisher(undefined);
  await engine.stop();
});

it(
  `publishes every outbox record of ${CHANGES} mixed changes ` +
    `at least once, losing none, with 10% of PutEvents entries ` +
    `failing`,
  async () => {
    const started = Date.now();
    const rng = seeded(SEED);
    const faults = seeded(SEED + 1);

    // The fake EventBridge, at the SDK boundary.
    const eventBridge = mockClient(EventBridgeClient);
    const sqs = mockClient(SQSClient);
    const published: { id: string; subject: string; detailType: string; source: string }[] = [];
    const fig = { putEventsCalls: 0, entriesSent: 0, failuresInjected: 0, ambiguousTimeouts: 0 };
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      fig.putEventsCalls++;
      const entries = input.Entries ?? [];
      expect(entries.length).toBeLessThanOrEqual(10);
      fig.entriesSent += entries.length;
      const results = entries.map((entry) => {
        if (faults() < ENTRY_FAILURE_RATE) {
          fig.failuresInjected++;
          return faults() < 0.5
            ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }
            : { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' };
        }
        const detail = JSON.parse(entry.Detail!) as { id: string; subject: string; type: string; specversion: string };
        expect(detail.specversion).toBe('1.0');
        expect(entry.DetailType).toBe(detail.type);
        published.push({
          id: detail.id,
          subject: detail.subject,
          detailType: entry.DetailType!,
          source: entry.Source!,
        });
        return { EventId: randomUUID() };
      });
      if (faults() < AMBIGUOUS_TIMEOUT_RATE) {
        fig.ambiguousTimeouts++;
        throw Object.assign(new Error('socket hang up after the request was sent'), { name: 'TimeoutError' });
      }
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    });
    const deadLetters: unknown[] = [];
    sqs.on(SendMessageCommand).callsFake((input) => void deadLetters.push(input));

    const publisher = outboxPublisher({
      bus: eventBridgePublisher({ client: new EventBridgeClient({ region: 'us-east-1' }), eventBusName: 'bus' }),
      deadLetters: sqsDeadLetterQueue({
        client: new SQSClient({ region: 'us-east-1' }),
        queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq',
      }),
      source: 'device-manager',
      retry: { attempts: 8, baseMs: 1, capMs: 8 },
      random: seeded(SEED + 2),
    });
    setPublisher(publisher);

    // The stream order of the outbox events, as first delivered to the publisher.
    const streamOrder: { id: string; subject: string }[] = [];
    const delivered = new Set<string>();
    let batchFailures = 0;
    const feed = startStreamFeed({
      engine,
      tableName: table.tableName,
      batchSize: 100,
      maxRetries: 10,
      handler: async (event: DynamoDBStreamEvent) => {
        for (const r of outboxRecordsOf(event.Records)) {
          if (r.event && !delivered.has(r.event.id)) {
            delivered.add(r.event.id);
            streamOrder.push({ id: r.event.id, subject: r.event.subject });
          }
        }
        const result = await publishHandler(event);
        batchFailures += result.batchItemFailures.length;
        return result;
      },
    });

    // The workload: each worker owns its devices, so every operation it picks is a change.
    const bookmarks = bookmarkCodec('k');
    const repository = deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 4,
      statsShards: 2,
      bookmarks,
    });
    const service = deviceService({
      devices: repository,
      policies: policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks }),
      clock: systemClock,
      newId: randomUUID,
    });
    const keys = await Promise.all(Array.from({ length: 6 }, () => newKeyPair()));
    const pool: ParsedCertificate[] = [];
    for (let i = 0; i < 24; i++)
      pool.push(
        parseCertificate(
          (
            await certificate({
              keys: keys[i % keys.length],
              notAfter: new Date(Date.now() + (20 + i * 20) * 86_400_000),
            })
          ).pem,
        ),
      );

    const expected = new Map<string, Map<DeviceEventType, number>>();
    const count = (id: string, type: DeviceEventType) => {
      const m = expected.get(id) ?? new Map<DeviceEventType, number>();
      m.set(type, (m.get(type) ?? 0) + 1);
      expected.set(id, m);
    };
    const operations = { register: 0, patch: 0, bind: 0, revoke: 0, decommission: 0 };
    let changes = 0;
    const take = () => (changes < CHANGES ? ++changes : 0);
    const state = new Map<string, Device>();
    const track = (before: Device | undefined, after: Device) => {
      if (before && before.status !== after.status) count(after.id, 'STATUS-UPDATED');
      state.set(after.id, after);
    };

    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const mine = Array.from({ length: DEVICES / WORKERS }, (_, i) => `w${w}-dev-${i}`);
        while (take()) {
          const id = mine[Math.floor(rng() * mine.length)]!;
          const device = state.get(id);
          const roll = rng();
          if (!device) {
            operations.register++;
            count(id, 'CREATED');
            track(
              undefined,
              await service.register({ id, dms_id: `dms-${w % 3}`, tags: ['fleet'], metadata: { n: 0 } }),
            );
          } else if (device.status === 'DECOMMISSIONED' || roll < 0.35) {
            // A decommissioned device takes no slot change, but its metadata stays writable.
            operations.patch++;
            count(id, 'SHADOW-UPDATED');
            track(device, await service.patch(id, MERGE_PATCH, { metadata: { n: changes, worker: w } }));
          } else if (roll < 0.75) {
            operations.bind++;
            const after = await service.bind(id, 'identity', {
              type: 'x509',
              certificate: pool[Math.floor(rng() * pool.length)]!,
            });
            // PROVISIONED, RENEWED or RE-PROVISIONED: the slot's newest inline event.
            count(id, Object.values(after.identity!.events).at(-1)!.type);
            track(device, after);
          } else if (roll < 0.95 && device.identity && device.identity.status !== 'REVOKED') {
            operations.revoke++;
            count(id, 'REVOKED');
            track(device, await service.revoke(id, 'identity', 'KeyCompromise'));
          } else if (roll >= 0.97) {
            operations.decommission++;
            count(id, 'DECOMMISSIONED');
            if (device.identity && device.identity.status !== 'REVOKED') count(id, 'REVOKED');
            track(device, await service.decommission(id));
          } else {
            operations.patch++;
            count(id, 'SHADOW-UPDATED');
            track(device, await service.patch(id, MERGE_PATCH, { icon: `icon-${changes}` }));
          }
        }
      }),
    );
    const writesDone = Date.now();
    await feed.drain();
    await feed.stop();

    // Every change is exactly one event of its kind in the device's history.
    for (const [id, types] of expected) {
      const history: DeviceEvent[] = [];
      let bookmark: string | undefined;
      do {
        const page = await service.events(id, 1000, bookmark);
        history.push(...page.list);
        bookmark = page.next || undefined;
      } while (bookmark);
      const actual = new Map<DeviceEventType, number>();
      for (const e of history) actual.set(e.type, (actual.get(e.type) ?? 0) + 1);
      expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(types));
    }

    // Outbox records written = unique events published; none lost, none dead-lettered.
    const outbox: { id: string; subject: string }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await table.documentClient.send(
        new ScanCommand({
          TableName: table.tableName,
          FilterExpression: 'kind = :k',
          ExpressionAttributeValues: { ':k': 'outbox' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? [])
        outbox.push(JSON.parse(outboxEventJson(item.event as Uint8Array)) as { id: string; subject: string });
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    const publishedIds = new Set(published.map((p) => p.id));
    const lost = outbox.filter((o) => !publishedIds.has(o.id));
    const duplicates = published.length - publishedIds.size;

    const figures = {
      seed: SEED,
      changes,
      operations,
      devices: state.size,
      outboxRecords: outbox.length,
      streamDelivered: delivered.size,
      putEventsCalls: fig.putEventsCalls,
      entriesSent: fig.entriesSent,
      failuresInjected: fig.failuresInjected,
      ambiguousTimeouts: fig.ambiguousTimeouts,
      // Every outbox event was sent at least once: the rest are re-sends.
      retries: fig.entriesSent - outbox.length,
      publishedWithDuplicates: published.length,
      publishedUnique: publishedIds.size,
      duplicates,
      deadLettered: deadLetters.length,
      batchItemFailures: batchFailures,
      lost: lost.length,
      writeSeconds: (writesDone - started) / 1000,
      totalSeconds: (Date.now() - started) / 1000,
    };
    console.log(`outbox publishing figures: ${JSON.stringify(figures, null, 2)}`);

    expect(changes).toBe(CHANGES);
    expect(outbox.length).toBeGreaterThanOrEqual(CHANGES);
    expect(fig.failuresInjected).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(deadLetters).toEqual([]);
    expect(publishedIds.size).toBe(outbox.length);
    expect([...publishedIds].every((id) => outbox.some((o) => o.id === id))).toBe(true);
    for (const p of published) expect(p.source).toBe('device-manager');

    // Each device's events reached the bus (first time) in stream order.
    const firstPublished = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const p of published) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      firstPublished.set(p.subject, [...(firstPublished.get(p.subject) ?? []), p.id]);
    }
    const streamBySubject = new Map<string, string[]>();
    for (const s of streamOrder) streamBySubject.set(s.subject, [...(streamBySubject.get(s.subject) ?? []), s.id]);
    expect(Object.fromEntries(firstPublished)).toEqual(Object.fromEntries(streamBySubject));
    eventBridge.restore();
    sqs.restore();
  },
  bySize(300_000, 900_000),
); // a guard against a hang, generous for a loaded machine
