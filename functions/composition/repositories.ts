/** The device and DMS-policy repositories over the shared table context. */
import type { DeviceRepository, PolicyRepository } from '../app/ports';
import { deviceRepository as dynamoDeviceRepository } from '../adapters/dynamodb/device-repository';
import { policyRepository as dynamoPolicyRepository } from '../adapters/dynamodb/policy-repository';
import { processWide, type TableContext } from './context';
import { requestsInFlight, turnPauser } from '../runtime/turns';

export function createDeviceRepository({ client, config, bookmarks }: TableContext): DeviceRepository {
  return dynamoDeviceRepository({
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
    eventRetentionDays: config.eventRetentionDays,
  });
}

export function createPolicyRepository({ client, config, bookmarks }: TableContext): PolicyRepository {
  return dynamoPolicyRepository({ client, tableName: config.tableName, bookmarks });
}

export const deviceRepository = processWide((s) => s.repository, createDeviceRepository);
export const policyRepository = processWide((s) => s.policies, createPolicyRepository);
