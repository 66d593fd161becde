/**
 * The composition root: builds adapters once per cold start and hands them to the use cases. The
 * event functions' adapters (EventBridge, SQS, IoT) are composed in event-composition.ts, so the API
 * functions neither bundle nor load those clients.
 */
import { randomUUID } from 'node:crypto';
import { deviceDeletion, type DeviceDeletion } from '../app/device-deletion';
import { deviceService, type DeviceService } from '../app/devices';
import { policyService, type PolicyService } from '../app/policies';
import { groupService, type GroupService } from '../app/groups';
import { insightsService, type InsightsService } from '../app/insights';
import type { Clock, DeviceRepository, PolicyRepository, Telemetry } from '../app/ports';
import { bookmarkCodec, type BookmarkCodec } from '../adapters/dynamodb/bookmark';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { devicePurge } from '../adapters/dynamodb/device-purge';
import { deviceRepository } from '../adapters/dynamodb/device-repository';
import { groupRepository } from '../adapters/dynamodb/group-repository';
import { policyRepository } from '../adapters/dynamodb/policy-repository';
import { loadConfig, type ServiceConfig } from './config';
import { bookmarkSecret } from './bookmark-secret';
import { DEFAULT_BACKOFF } from '../domain/backoff';
import { METRIC, metrics, MetricUnit, tracer } from './observability';

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

export function createServices(config: ServiceConfig, clock: Clock = systemClock): Services {
  const client = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  // DynamoDB calls as X-Ray subsegments (a no-op when tracing is off).
  tracer.captureAWSv3Client(client);
  // The key is read once per cold start before the first request (loadBookmarkSecret in the HTTP chain).
  const bookmarks = bookmarkCodec(config.bookmarkSecret ?? bookmarkSecret);
  const repository = deviceRepository({
    client,
    tableName: config.tableName,
    listShards: config.listShards,
    statsShards: config.statsShards,
    bookmarks,
    readBudget: config.listReadBudget,
    statsReadBudget: config.statsReadBudget,
    listByteBudget: config.listByteBudget,
    statsReadByteBudget: config.statsReadByteBudget,
    timeBudgetMs: config.requestTimeBudgetMs,
    dueShards: config.dueShards,
    indexedMetadataKeys: config.indexedMetadataKeys,
  });
  const policies = policyRepository({ client, tableName: config.tableName, bookmarks });
  const retry = { policy: { ...DEFAULT_BACKOFF, budgetMs: config.versionRetrySeconds * 1000 } };
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID, defaults: config.renewalDefaults, telemetry: metricsTelemetry, retry, deviceSnapshots: config.lamassuEvents });
  const groups = groupService({
    groups: groupRepository({ client, tableName: config.tableName, bookmarks }),
    devices,
    clock,
    newId: randomUUID,
    maxDepth: config.groupMaxDepth,
    retry,
  });
  const dms = policyService({ policies, clock, newId: randomUUID, defaults: config.renewalDefaults });
  const purge = devicePurge({ client, tableName: config.tableName, statsShards: config.statsShards });
  const deletion = deviceDeletion({ devices: repository, purge, clock, newId: randomUUID });
  return { config, repository, policies, devices, dms, groups, insights: insightsService({ devices: repository, clock }), deletion, bookmarks };
}

let current: Services | undefined;

/** The process-wide services, created from the environment on first use (cold start). */
export function services(): Services {
  current ??= createServices(loadConfig());
  return current;
}

/** Test and local-service hook: replace the process-wide services. */
export function setServices(next: Services | undefined): void {
  current = next;
}
