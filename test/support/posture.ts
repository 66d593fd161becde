/**
 * The posture stack over the embedded engine for integration tests: a fresh table, the device
 * service with the posture repository, the policy use cases and the sweeper's walk.
 */
import { randomUUID } from 'node:crypto';
import type { Engine } from '@device-manager/local-engine';
import { deviceService } from '../../functions/app/devices';
import type { PostureRepository } from '../../functions/app/ports';
import { postureService } from '../../functions/app/posture';
import { sweep } from '../../functions/app/sweep';
import { bookmarkCodec } from '../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../functions/adapters/dynamodb/device-repository';
import { deviceTable } from '../../functions/adapters/dynamodb/device-table';
import { policyRepository } from '../../functions/adapters/dynamodb/policy-repository';
import { postureRepository } from '../../functions/adapters/dynamodb/posture-repository';
import { sweepIndex } from '../../functions/adapters/dynamodb/sweep-index';
import { createSharedFindings } from '../../functions/composition/shared-findings';
import { freshTable, startCounters, testClock } from './dynamo';

/** `iotSync`: the changes open `revoked-still-active-in-iot` as with the IoT sync on. */
export async function postureStack(engine: Engine, { iotSync = false }: { iotSync?: boolean } = {}) {
  const table = await freshTable(engine);
  const clock = testClock('2026-03-15T10:00:00.000Z');
  const bookmarks = bookmarkCodec('k');
  const options = {
    client: table.documentClient,
    tableName: table.tableName,
    listShards: 2,
    statsShards: 2,
    bookmarks,
  };
  const repository = deviceRepository(options);
  const postureTable = deviceTable(options);
  const posture = postureRepository(postureTable);
  const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const index = sweepIndex({ repository, client: table.documentClient, tableName: table.tableName });
  const serviceWith = (p: PostureRepository) =>
    deviceService({ devices: repository, policies, clock, newId: randomUUID, posture: p, iotSync });
  const service = serviceWith(posture);
  const walk = () => sweep({ index, policies, service, clock, posture }, { deadline: Date.now() + 60_000 });
  const policy = postureService({ posture });
  /** The counter applier and the shared-findings reconciler on the table's stream: `settle()` applies. */
  const stream = () => startCounters(table, 2, createSharedFindings(repository, policies, posture, clock).reconcile);
  return {
    table,
    clock,
    bookmarks,
    policies,
    repository,
    posture,
    postureTable,
    service,
    serviceWith,
    walk,
    policy,
    stream,
  };
}
