/**
 * The SQS SDK client module, loaded on its first use instead of at module load: every route and worker
 * composed with the task queues bundled it, and requiring it at init put the job routes, the sweeper
 * and the job worker at 1.6–1.8× a bare DynamoDB client (docs/cold-starts.md). Routes that never send
 * (reads of jobs and imports) now never load it. Import its values through `sqsSdk()` only (types may
 * be imported as usual); test/unit/bundles.test.ts fails when a job route loads it at init.
 */
import type * as SqsSdk from '@aws-sdk/client-sqs';

let sdk: typeof SqsSdk | undefined;

/** `@aws-sdk/client-sqs`, required on the first call (the Lambda runtime provides it). */
export function sqsSdk(): typeof SqsSdk {
  sdk ??= require('@aws-sdk/client-sqs') as typeof SqsSdk;
  return sdk;
}
