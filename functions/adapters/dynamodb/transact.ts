/** TransactWriteItems with the retry policy every writer shares. */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { attemptDelay, type RetryPolicy } from '../../domain/backoff';
import { ContentionError } from '../../domain/errors';

/** 8 attempts; the first retry sleeps up to 20 ms, doubling up to 500 ms. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 20, capMs: 500 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reason codes of a cancelled transaction, in request order. */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/**
 * Sends a transaction, retrying cancellations caused only by conflicts or throttling with full-jitter
 * backoff (a cancelled transaction applied nothing, so it is simply sent again). The SDK's own retries
 * of one send reuse its ClientRequestToken, so an ambiguous network failure cannot apply twice.
 * Other cancellations (failed conditions) are rethrown for the caller.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand(input));
      return;
    } catch (error) {
      const codes = cancellationCodes(error);
      const transient =
        codes !== undefined &&
        codes.every((c) => c === 'None' || c === 'TransactionConflict' || c === 'ThrottlingError') &&
        codes.some((c) => c !== 'None');
      if (!transient) throw error;
      const delay = attemptDelay(policy, attempt, Math.random());
      if (delay === undefined) throw new ContentionError('transaction kept conflicting; try again', { cause: error });
      await sleep(delay);
    }
  }
}
