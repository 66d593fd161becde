/** The device and DMS-policy repositories over the shared table context. */
import type { DeviceRepository, PolicyRepository, PostureRepository } from '../app/ports';
import { deviceRepository as dynamoDeviceRepository } from '../adapters/dynamodb/device-repository';
import { type DeviceRepositoryOptions, deviceTable } from '../adapters/dynamodb/device-table';
import { postureRepository as dynamoPostureRepository } from '../adapters/dynamodb/posture-repository';
import { policyRepository as dynamoPolicyRepository } from '../adapters/dynamodb/policy-repository';
import { processWide, type TableContext } from './context';
import { inHeavyRequest, requestsInFlight, turnPauser } from '../runtime/turns';

export function createDeviceRepository(context: TableContext): DeviceRepository {
  return dynamoDeviceRepository(deviceTableOptions(context));
}

/** The posture policy, its job and the findings' reads, over the same table settings as the devices. */
export function createPostureRepository(context: TableContext): PostureRepository {
  return dynamoPostureRepository(deviceTable(deviceTableOptions(context)));
}

function deviceTableOptions({ client, config, bookmarks }: TableContext): DeviceRepositoryOptions {
  return {
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
    turns: () => turnPauser(),
    crowded: () => requestsInFlight() > 1,
    heavy: inHeavyRequest,
    eventRetentionDays: config.eventRetentionDays,
    jobRetentionDays: config.jobRetentionDays,
  };
}

export function createPolicyRepository({ client, config, bookmarks }: TableContext): PolicyRepository {
  return dynamoPolicyRepository({ client, tableName: config.tableName, bookmarks });
}

export const deviceRepository = processWide((s) => s.repository, createDeviceRepository);
export const policyRepository = processWide((s) => s.policies, createPolicyRepository);
export const postureRepository = processWide((s) => s.postureRepository, createPostureRepository);
