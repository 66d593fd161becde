/**
 * Events in the local service, wired like the deployed stack: the engine's stored stream → the outbox
 * publisher (the real stream handler) → a local bus (local/event-sink.ts) → the certificate intake
 * (retrying a serial not found while the engine's indexes lag, ENGINE_INDEX_LAG_MS) and, when
 * IOT_SYNC_ENABLED=true, the IoT sync (a dry run unless IOT_ENDPOINT is set). Also the
 * local-only `POST /_local/events` endpoint through which `npm run event` puts events on that bus, or
 * hands AWS IoT presence events to the presence use case (with IOT_PRESENCE=true).
 */
import type { SQSRecord } from 'aws-lambda';
import { lamassuEventsOf } from '../functions/lamassu/events';
import { outboxPublisher } from '../functions/app/publish';
import type { DeadLetterQueue } from '../functions/app/ports';
import {
  CERTIFICATE_STATUS_DETAIL_TYPE,
  type CertificateIntakeReport,
  intake as certificateIntake,
} from '../functions/handlers/events/certificate-status';
import { handler as iotSyncHandler } from '../functions/handlers/events/iot-sync';
import { handler as applyCountersHandler } from '../functions/handlers/stream/apply-counters';
import { handler as publishHandler } from '../functions/handlers/stream/publish-outbox';
import type { Services } from '../functions/composition/composition';
import { createIotSync, setIotSync } from '../functions/composition/iot-composition';
import { createCounterApplier, setApplier } from '../functions/composition/counters-composition';
import { setPublisher } from '../functions/composition/publisher-composition';
import {
  eventSourceOf,
  intVar,
  loadIotSyncConfig,
  MAX_UNKNOWN_SERIAL_RETRY_SECONDS,
} from '../functions/runtime/config';
import type { Engine } from '@device-manager/local-engine';
import { startStreamFeed, type StreamFeed } from '@device-manager/local-engine/stream-feed';
import {
  type BusEvent,
  LOCAL_ACCOUNT,
  type LocalEventSink,
  type LocalTarget,
  type PutEntry,
  startLocalEventSink,
} from './event-sink';
import { dryRunIotProvisioning, dryRunIotRegistry, dryRunIotShadows } from './iot-dry-run';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { COUNTER_STREAM_FILTERS, OUTBOX_STREAM_FILTERS } from '../functions/adapters/dynamodb/stream-filters';
import { iotSyncStateStore } from '../functions/adapters/dynamodb/iot-sync-state';
import type { LocalRoute } from './server';
import { connectivityStore } from '../functions/adapters/dynamodb/connectivity-store';
import { presenceService } from '../functions/app/presence';
import { CONNECTIVITY_WRITE_INTERVAL_MS, type PresenceEvent, presenceEventOf } from '../functions/domain/connectivity';
import { systemClock } from '../functions/composition/context';

export const LOCAL_EVENTS_PATH = '/_local/events';
export const DEFAULT_EVENTS_FILE = '.data/events.ndjson';
/**
 * The outbox publisher's checkpoint in the engine's stored stream: it moves only after the publisher
 * has put a batch's events on the local bus (appended to the events file), so a crash replays what
 * was not yet published (at least once; redelivered events keep their id).
 */
export const OUTBOX_CONSUMER = 'outbox-publisher';
/**
 * The counter applier's checkpoint: the counters follow the change feed like the deployed stream
 * consumer (docs/adr/0005-counters-from-the-stream.md). The feed delivers on every commit, so a
 * change is counted in the delivery that follows it; a statistics request waits for that delivery,
 * at most {@link COUNTER_WAIT_MS}.
 */
export const COUNTER_CONSUMER = 'counter-applier';
/** The local bound of the counters' lag behind the changes (docs/configuration.md). */
export const COUNTER_WAIT_MS = 5000;

export interface LocalEvents {
  sink: LocalEventSink;
  /** The events file, if one is kept. */
  file?: string;
  routes: LocalRoute[];
  /** Resolves once every change so far is published and every delivery it caused is done. */
  drain(): Promise<void>;
  /** Resolves once the counters include every change committed so far, or after COUNTER_WAIT_MS. */
  settleCounters(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalEventsOptions {
  env: Record<string, string | undefined>;
  services: Services;
  /** The embedded engine; without it (DYNAMODB_ENDPOINT) nothing is published. */
  engine?: Engine;
  tableName: string;
  say: (line: string) => void;
}

/** LOCAL_EVENTS_FILE, else `.data/events.ndjson` (none with IN_MEMORY=true); an empty value keeps no file. */
export function eventsFileOf(env: Record<string, string | undefined>): string | undefined {
  if (env.LOCAL_EVENTS_FILE !== undefined) return env.LOCAL_EVENTS_FILE || undefined;
  return env.IN_MEMORY === 'true' ? undefined : DEFAULT_EVENTS_FILE;
}

/**
 * The certificate intake's retry of a serial not found, locally. The engine reads indexes strongly
 * unless ENGINE_INDEX_LAG_MS is set, so by default a serial not found is final at once; with a lag
 * (or UNKNOWN_SERIAL_RETRY_SECONDS), it is retried as the deployed queue does, at a short interval
 * (the lag, within 50 ms to 5 s) for the window (UNKNOWN_SERIAL_RETRY_SECONDS, else five lags, at
 * least 1 s). The retries hold the intake's delivery chain, so later status events wait behind them.
 */
export function localUnknownSerialRetry(env: Record<string, string | undefined>): {
  windowMs: number;
  delayMs: number;
} {
  const lag = intVar(env, 'ENGINE_INDEX_LAG_MS', 0, 0, 600_000);
  const set = env.UNKNOWN_SERIAL_RETRY_SECONDS !== undefined && env.UNKNOWN_SERIAL_RETRY_SECONDS !== '';
  const windowMs = set
    ? intVar(env, 'UNKNOWN_SERIAL_RETRY_SECONDS', 0, 0, MAX_UNKNOWN_SERIAL_RETRY_SECONDS) * 1000
    : lag > 0
      ? Math.max(1000, 5 * lag)
      : 0;
  return { windowMs, delayMs: Math.min(5000, Math.max(50, lag || 1000)) };
}

function sqsRecordOf(event: BusEvent): SQSRecord {
  return {
    messageId: event.id,
    receiptHandle: event.id,
    body: JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${event.region}:${LOCAL_ACCOUNT}:iot-sync`,
    awsRegion: event.region,
  };
}

export function startLocalEvents({ env, services, engine, tableName, say }: LocalEventsOptions): LocalEvents {
  const region = env.AWS_REGION ?? 'us-east-1';
  const source = eventSourceOf(env);
  const file = eventsFileOf(env);
  const functionArn = (name: string) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${name}`;

  const retry = localUnknownSerialRetry(env);
  const targets: LocalTarget[] = [
    {
      name: 'certificate-status',
      matches: (e) => e['detail-type'] === CERTIFICATE_STATUS_DETAIL_TYPE,
      deliver: async (e) => {
        const retryUntil = Date.now() + retry.windowMs;
        let report: CertificateIntakeReport;
        while ((report = await certificateIntake(e, { retryUntil })).outcome === 'retry') {
          say(`certificate.status.update: serial ${report.serial} not found yet; retried in ${retry.delayMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, retry.delayMs));
        }
        say(
          `certificate.status.update: ` +
            report.outcome +
            report.results.map((r) => ` [${r.device_id} ${r.slot} v${r.version}: ${r.outcome}, ${r.note}]`).join(''),
        );
        return report;
      },
    },
  ];
  const iotConfig = loadIotSyncConfig(env);
  if (iotConfig.enabled) {
    setIotSync({
      config: iotConfig,
      sync: createIotSync(
        { ...iotConfig, region },
        { partition: 'aws', account: LOCAL_ACCOUNT },
        services.repository,
        iotSyncStateStore({
          client: createDocumentClient({ region, endpoint: engine?.endpoint ?? env.DYNAMODB_ENDPOINT }),
          tableName,
        }),
        iotConfig.iotEndpoint ? undefined : dryRunIotRegistry(say),
        {
          policies: services.policies,
          renewalDefaults: services.config.renewalDefaults,
          ...(iotConfig.iotEndpoint ? {} : { iot: dryRunIotProvisioning(say), shadows: dryRunIotShadows(say) }),
        },
        services.devices,
      ),
    });
    targets.push({
      name: 'iot-sync',
      // A DMS change too: its AWS IoT settings may name new policies, groups or a template.
      matches: (e) =>
        e.source === source && (e['detail-type'].startsWith('device.') || e['detail-type'] === 'dms.update'),
      deliver: (e) => iotSyncHandler({ Records: [sqsRecordOf(e)] }, { invokedFunctionArn: functionArn('iot-sync') }),
    });
    say(`IoT sync on (${iotConfig.iotEndpoint ? `AWS IoT at ${iotConfig.iotEndpoint}` : 'dry run: calls are logged'})`);
  }

  const sink = startLocalEventSink({ file, region, targets, say });
  const deadLetters: DeadLetterQueue = {
    async send(letter) {
      say(
        `dead letter (${letter.reason.code}): ${letter.reason.message} ` +
          `${JSON.stringify(letter.event ?? letter.record)}`,
      );
    },
  };
  setPublisher(
    outboxPublisher({
      bus: sink,
      deadLetters,
      source,
      ...(env.LAMASSU_EVENTS === 'true' ? { derive: lamassuEventsOf } : {}),
    }),
  );
  const feed: StreamFeed | undefined = engine
    ? startStreamFeed({
        engine,
        tableName,
        handler: publishHandler,
        filters: OUTBOX_STREAM_FILTERS,
        batchSize: 100,
        maxRetries: 3,
        consumer: OUTBOX_CONSUMER,
      })
    : undefined;

  setApplier(createCounterApplier(services.config));
  const counterFeed: StreamFeed | undefined = engine
    ? startStreamFeed({
        engine,
        tableName,
        handler: applyCountersHandler,
        // The deployed mapping's filter criteria: device and connectivity items only.
        filters: COUNTER_STREAM_FILTERS,
        // Up to 1,000 records read a batch (the deployed mapping: 100 within a 1 s window, docs/capacity.md).
        batchSize: 1000,
        // Counters must not skip a change: a failing batch is delivered again until it applies.
        maxRetries: 1000,
        consumer: COUNTER_CONSUMER,
      })
    : undefined;

  async function settleCounters() {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, COUNTER_WAIT_MS)));
    await Promise.race([counterFeed?.drain(), bound]);
    clearTimeout(timer);
  }

  // AWS IoT presence events (docs/events.md, Presence): deployed an IoT rule → SQS → the presence function;
  // here the same use case on the engine. A change deferred to its device's next minute is applied again
  // then, as SQS redelivers it after its visibility timeout.
  const presence = services.config.presenceEnabled
    ? presenceService({
        store: connectivityStore({
          client: createDocumentClient({ region, endpoint: engine?.endpoint ?? env.DYNAMODB_ENDPOINT }),
          tableName,
          listShards: services.config.listShards,
        }),
        clock: systemClock,
      })
    : undefined;
  const redeliveries = new Set<NodeJS.Timeout>();
  async function applyPresence(events: PresenceEvent[]) {
    const report = await presence!.apply(events);
    say(
      `presence: ${report.written} written, ${report.dropped} dropped (stale)` +
        `${report.deferred.length ? `, deferred a minute: ${report.deferred.join(' ')}` : ''}` +
        `${report.unknown.length ? `, no such device: ${report.unknown.join(' ')}` : ''}`,
    );
    const deferred = events.filter((e) => report.deferred.includes(e.clientId));
    if (deferred.length > 0) {
      const timer = setTimeout(() => {
        redeliveries.delete(timer);
        applyPresence(deferred).catch((error: unknown) => say(`presence: ${String(error)}`));
      }, CONNECTIVITY_WRITE_INTERVAL_MS);
      redeliveries.add(timer);
    }
    return report;
  }

  /** The body's presence events (one, or an array), or undefined when it is not presence events. */
  function presenceEventsOf(body: unknown): PresenceEvent[] | undefined {
    const items = Array.isArray(body) ? body : [body];
    const events = items.map(presenceEventOf);
    return items.length > 0 && events.every((e) => e !== undefined) ? (events as PresenceEvent[]) : undefined;
  }

  const put: LocalRoute = {
    method: 'POST',
    path: LOCAL_EVENTS_PATH,
    // What a CA's status update can do (revoke a device's certificate) is a device write.
    scope: 'devices:write',
    async handle(body) {
      const presenceEvents = presenceEventsOf(body);
      if (presenceEvents) {
        if (!presence)
          return {
            status: 409,
            body: {
              err: 'presence events need the service started with IOT_PRESENCE=true',
              code: 'PRESENCE_OFF',
            },
          };
        return { status: 200, body: await applyPresence(presenceEvents) };
      }
      const entry = body as Partial<PutEntry> | undefined;
      if (typeof entry?.['detail-type'] !== 'string' || typeof entry.detail !== 'object' || entry.detail === null) {
        return {
          status: 400,
          body: {
            err:
              'expected {"source", "detail-type", "detail": {...}}, or AWS IoT presence events ' +
              '{"clientId", "eventType": "connected"|"disconnected", "timestamp": <epoch ms>} (one or an array)',
            code: 'VALIDATION_ERROR',
          },
        };
      }
      const result = await sink.put({
        source: typeof entry.source === 'string' ? entry.source : 'local',
        'detail-type': entry['detail-type'],
        detail: entry.detail,
        time: entry.time,
      });
      return { status: 200, body: result };
    },
  };

  async function drain() {
    for (;;) {
      const before = sink.count;
      await feed?.drain();
      await sink.drain();
      await feed?.drain();
      await counterFeed?.drain();
      if (sink.count === before) return;
    }
  }

  return {
    sink,
    file,
    routes: [put],
    drain,
    settleCounters,
    async stop() {
      for (const timer of redeliveries) clearTimeout(timer);
      redeliveries.clear();
      await drain();
      await feed?.stop();
      await counterFeed?.stop();
      setPublisher(undefined);
      setApplier(undefined);
      setIotSync(undefined);
    },
  };
}
