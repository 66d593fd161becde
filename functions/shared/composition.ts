/** The composition root: builds adapters once per cold start and hands them to the use cases. */
import { randomUUID } from 'node:crypto';
import { deviceService, type DeviceService } from '../app/devices';
import { policyService, type PolicyService } from '../app/policies';
import { groupService, type GroupService } from '../app/groups';
import type { Clock, DeviceRepository, PolicyRepository, Telemetry } from '../app/ports';
import { bookmarkCodec } from '../adapters/dynamodb/bookmark';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { deviceRepository } from '../adapters/dynamodb/device-repository';
import { groupRepository } from '../adapters/dynamodb/group-repository';
import { policyRepository } from '../adapters/dynamodb/policy-repository';
import { iotSync, type IotSync } from '../app/iot-sync';
import { DEFAULT_PUBLISH_RETRY, outboxPublisher, type OutboxPublisher } from '../app/publish';
import type { DeadLetterQueue, EventPublisher, IotRegistry } from '../app/ports';
import { createEventBridgeClient } from '../adapters/eventbridge/client';
import { eventBridgePublisher } from '../adapters/eventbridge/event-publisher';
import { createIotClient } from '../adapters/iot/client';
import { iotRegistry } from '../adapters/iot/iot-registry';
import { createSqsClient } from '../adapters/sqs/client';
import { sqsDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import {
  ConfigError,
  IOT_MAX_ATTRIBUTES_TYPED,
  IOT_MAX_ATTRIBUTES_UNTYPED,
  type IotSyncConfig,
  loadConfig,
  loadIotSyncConfig,
  loadPublisherConfig,
  type PublisherConfig,
  type ServiceConfig,
} from './config';
import { logger, METRIC, metrics, MetricUnit } from './observability';

export interface Services {
  config: ServiceConfig;
  devices: DeviceService;
  dms: PolicyService;
  repository: DeviceRepository;
  policies: PolicyRepository;
  groups: GroupService;
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
  const repository = deviceRepository({
    client,
    tableName: config.tableName,
    listShards: config.listShards,
    statsShards: config.statsShards,
    bookmarks: bookmarkCodec(config.bookmarkSecret),
    readBudget: config.listReadBudget,
    dueShards: config.dueShards,
  });
  const policies = policyRepository({ client, tableName: config.tableName, bookmarks: bookmarkCodec(config.bookmarkSecret) });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID, defaults: config.renewalDefaults, telemetry: metricsTelemetry });
  const groups = groupService({
    groups: groupRepository({ client, tableName: config.tableName, bookmarks: bookmarkCodec(config.bookmarkSecret) }),
    devices,
    clock,
    newId: randomUUID,
    maxDepth: config.groupMaxDepth,
  });
  const dms = policyService({ policies, clock, newId: randomUUID, defaults: config.renewalDefaults });
  return { config, repository, policies, devices, dms, groups };
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

// The event functions: the outbox publisher (stream → bus) and the AWS IoT sync (queue → IoT).

/** The outbox publisher on EventBridge and SQS, or on the adapters given (the local service's sink). */
export function createPublisher(
  config: Pick<PublisherConfig, 'eventSource' | 'maxAttempts'> & Partial<PublisherConfig>,
  adapters: { bus?: EventPublisher; deadLetters?: DeadLetterQueue } = {},
): OutboxPublisher {
  const need = (value: string | undefined, variable: string) => {
    if (!value) throw new ConfigError(variable, 'is required');
    return value;
  };
  const bus =
    adapters.bus ?? eventBridgePublisher({ client: createEventBridgeClient({ region: config.region, endpoint: config.eventBridgeEndpoint }), eventBusName: need(config.eventBusName, 'EVENT_BUS_NAME') });
  const deadLetters =
    adapters.deadLetters ?? sqsDeadLetterQueue({ client: createSqsClient({ region: config.region, endpoint: config.sqsEndpoint }), queueUrl: need(config.deadLetterQueueUrl, 'PUBLISH_DLQ_URL') });
  return outboxPublisher({ bus, deadLetters, source: config.eventSource, retry: { ...DEFAULT_PUBLISH_RETRY, attempts: config.maxAttempts }, log: (message, detail) => logger.warn(message, detail) });
}

let currentPublisher: OutboxPublisher | undefined;

/** The process-wide publisher, created from the environment on first use (cold start). */
export function publisher(): OutboxPublisher {
  currentPublisher ??= createPublisher(loadPublisherConfig());
  return currentPublisher;
}

/** Test and local-service hook: replace the process-wide publisher. */
export function setPublisher(next: OutboxPublisher | undefined): void {
  currentPublisher = next;
}

/** The IoT sync: the device repository (reads only) and AWS IoT, or the registry given (a dry run, a test fake). */
export function createIotSync(config: IotSyncConfig, accountId: string, devices: DeviceRepository, iot?: IotRegistry): IotSync {
  if (!config.region) throw new ConfigError('AWS_REGION', 'is required for certificate ARNs');
  const log = (message: string, detail: Record<string, unknown>) => logger.info(message, detail);
  return iotSync({
    devices,
    iot: iot ?? iotRegistry({ client: createIotClient({ region: config.region, endpoint: config.iotEndpoint }), log }),
    settings: {
      region: config.region,
      accountId: config.accountId ?? accountId,
      metadataKeys: config.metadataKeys,
      thingTypeName: config.thingTypeName,
      maxAttributes: config.thingTypeName ? IOT_MAX_ATTRIBUTES_TYPED : IOT_MAX_ATTRIBUTES_UNTYPED,
      decommissionCertificateStatus: config.decommissionCertificateStatus,
    },
    log,
  });
}

let currentIotSync: { config: IotSyncConfig; sync: IotSync } | undefined;

/** The process-wide IoT sync; `accountId` (from the function's ARN) is used unless AWS_ACCOUNT_ID is set. */
export function iotSyncService(accountId: string): { config: IotSyncConfig; sync: IotSync } {
  if (!currentIotSync) {
    const config = loadIotSyncConfig();
    currentIotSync = { config, sync: createIotSync(config, accountId, services().repository) };
  }
  return currentIotSync;
}

/** Test and local-service hook: replace the process-wide IoT sync. */
export function setIotSync(next: { config: IotSyncConfig; sync: IotSync } | undefined): void {
  currentIotSync = next;
}
