/**
 * The composition root of the counter applier (table stream → counter items): the DynamoDB client
 * only at init, so the function evaluates neither the use cases nor the HTTP edge at its cold start;
 * the shared-findings reconciler's device write path is loaded on first use.
 */
import { createDocumentClient } from '../adapters/dynamodb/client';
import { type CounterApplier, counterApplier } from '../adapters/dynamodb/counter-applier';
import { loadConfig, type ServiceConfig } from '../runtime/config';

/**
 * The shared-findings reconciler (composition/shared-findings.ts), required on the first batch that moves
 * a public key: the device use cases it brings are not evaluated at the applier's cold start.
 */
function reconcile(moves: { device: string; keys: string[] }[]) {
  const { sharedFindings } = require('./shared-findings') as typeof import('./shared-findings');
  return sharedFindings().reconcile(moves);
}

/** The counter applier over the configured table, or over the given client settings (tests, the local service). */
export function createCounterApplier(
  config: Pick<ServiceConfig, 'tableName' | 'statsShards' | 'region' | 'dynamodbEndpoint'>,
): CounterApplier {
  const client = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  return counterApplier({ client, tableName: config.tableName, statsShards: config.statsShards, reconcile });
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
