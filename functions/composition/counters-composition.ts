/**
 * The composition root of the counter applier (table stream → counter items): the DynamoDB client
 * only, so the function bundles neither the use cases nor the HTTP edge.
 */
import { createDocumentClient } from '../adapters/dynamodb/client';
import { type CounterApplier, counterApplier } from '../adapters/dynamodb/counter-applier';
import { loadConfig, type ServiceConfig } from '../runtime/config';

/** The counter applier over the configured table, or over the given client settings (tests, the local service). */
export function createCounterApplier(
  config: Pick<ServiceConfig, 'tableName' | 'statsShards' | 'region' | 'dynamodbEndpoint'>,
): CounterApplier {
  const client = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  return counterApplier({ client, tableName: config.tableName, statsShards: config.statsShards });
}

let current: CounterApplier | undefined;

/** The process-wide applier, created from the environment on first use (cold start). */
export function applier(): CounterApplier {
  current ??= createCounterApplier(loadConfig());
  return current;
}

/** Test and local-service hook: replace the process-wide applier. */
export function setApplier(next: CounterApplier | undefined): void {
  current = next;
}
