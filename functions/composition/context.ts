/**
 * What every table-backed capability shares, created once per cold start: configuration, the
 * DynamoDB client and the bookmark codec. Each capability (compose/devices.ts, groups.ts, ...) is
 * its own module, so a handler bundles and loads only the use cases its route calls.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeviceDeletion } from '../app/device-deletion';
import type { DeviceService } from '../app/devices';
import type { GroupService } from '../app/groups';
import type { InsightsService } from '../app/insights';
import type { JobService } from '../app/jobs';
import type { PolicyService } from '../app/policies';
import type { PostureService } from '../app/posture';
import type {
  Clock,
  ConnectivityStore,
  DeviceRepository,
  IotSyncStateStore,
  PolicyRepository,
  PostureRepository,
  SweepIndex,
  Telemetry,
} from '../app/ports';
import { bookmarkCodec, type BookmarkCodec } from '../adapters/dynamodb/bookmark';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DEFAULT_BACKOFF } from '../domain/backoff';
import type { RetryOptions } from '../app/retry';
import { bookmarkSecret } from '../runtime/bookmark-secret';
import { loadConfig, type ServiceConfig } from '../runtime/config';
import { METRIC, metrics, MetricUnit } from '../runtime/observability';
import { tracing } from '../runtime/tracing';
import { heavyTurn } from '../runtime/turns';

/** Every capability at once: the local service and tests build and install these (composition.ts). */
export interface Services {
  config: ServiceConfig;
  devices: DeviceService;
  dms: PolicyService;
  repository: DeviceRepository;
  policies: PolicyRepository;
  groups: GroupService;
  insights: InsightsService;
  /** Hard delete of decommissioned devices (the Lamassu edge). */
  deletion: DeviceDeletion;
  /** The bookmark codec every list shares (the Lamassu edge's lists too). */
  bookmarks: BookmarkCodec;
  /** What the IoT sync last did per device (none without the sync). */
  iotStates: IotSyncStateStore;
  /** What the sweeper reads and records (app/sweep.ts). */
  sweepIndex: SweepIndex;
  /** The posture policy, its re-evaluation job and the findings (app/posture.ts). */
  postureRepository: PostureRepository;
  posture: PostureService;
  /** Each device's connectivity from AWS IoT presence events (none without them). */
  connectivity?: Pick<ConnectivityStore, 'get'>;
  /** Remediation jobs (app/jobs.ts). */
  jobs: JobService;
}

export const systemClock: Clock = { now: () => new Date() };

/** Use-case telemetry as CloudWatch metrics: devices created, status transitions by target status. */
export const metricsTelemetry: Telemetry = {
  deviceCreated: () => metrics.addMetric(METRIC.devicesCreated, MetricUnit.Count, 1),
  statusChanged: (_from, to) => {
    const single = metrics.singleMetric();
    single.addDimension('status', to);
    single.addMetric(METRIC.statusTransitions, MetricUnit.Count, 1);
  },
};

export interface TableContext {
  config: ServiceConfig;
  client: DynamoDBDocumentClient;
  clock: Clock;
  bookmarks: BookmarkCodec;
  /** Backoff and time bound of blind writes that lose a version race. */
  retry: RetryOptions;
}

/** Backoff and time bound of blind writes that lose a version race (VERSION_RETRY_SECONDS). */
export const versionRetry = (config: Pick<ServiceConfig, 'versionRetrySeconds'>): RetryOptions => ({
  policy: { ...DEFAULT_BACKOFF, budgetMs: config.versionRetrySeconds * 1000 },
});

export function createTableContext(config: ServiceConfig, clock: Clock = systemClock): TableContext {
  const client = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  // DynamoDB calls as X-Ray subsegments, where tracing records.
  tracing()?.captureAWSv3Client(client);
  // Where priorities are on (the local service), a heavy request's calls wait for light requests.
  client.middlewareStack.add((next) => async (args) => (await heavyTurn(), next(args)), {
    step: 'initialize',
    name: 'cooperativeTurns',
  });
  // The key is read once per cold start before the first request (loadBookmarkSecret in the HTTP chain).
  const bookmarks = bookmarkCodec(config.bookmarkSecret ?? bookmarkSecret);
  return {
    config,
    client,
    clock,
    bookmarks,
    retry: versionRetry(config),
  };
}

let installed: Services | undefined;
let context: TableContext | undefined;
/** Bumped when services are installed or removed, so every process-wide capability is built again. */
let generation = 0;

/** The process-wide table context, created from the environment on first use (cold start). */
export function tableContext(): TableContext {
  context ??= createTableContext(loadConfig());
  return context;
}

/** The configuration and bookmark codec of this process: the installed services' or the environment's. */
export function listSettings(): Pick<TableContext, 'config' | 'bookmarks'> {
  return installed ?? tableContext();
}

/** Test and local-service hook: install (or with undefined, remove) the process-wide services. */
export function setServices(next: Services | undefined): void {
  installed = next;
  context = undefined;
  generation += 1;
}

/** The installed services, if any. */
export function installedServices(): Services | undefined {
  return installed;
}

/**
 * A process-wide capability: the installed service when there is one, else built from the table
 * context once (per installation).
 */
export function processWide<T>(pick: (services: Services) => T, build: (context: TableContext) => T): () => T {
  let value: T | undefined;
  let builtIn = -1;
  return () => {
    if (installed) return pick(installed);
    if (value === undefined || builtIn !== generation) {
      value = build(tableContext());
      builtIn = generation;
    }
    return value;
  };
}
