/**
 * EventPublisher on EventBridge: PutEvents in requests of at most 10 entries and 256 KiB, every
 * entry's result read (FailedEntryCount is never ignored), each failure classified as retryable or
 * permanent. Retrying is the use case's business (functions/app/publish.ts).
 */
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { MAX_ENTRIES_PER_REQUEST } from '../../app/publish';
import type { CloudEvent, EventPublisher, PublishOutcome } from '../../app/ports';

/** PutEvents' limit on a request's total entry size. */
export const MAX_REQUEST_BYTES = 256 * 1024;

/**
 * Entry error codes worth sending again (the PutEvents reference lists InternalFailure and
 * ThrottlingException; the others are the transient common errors). Anything else is permanent.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'InternalFailure',
  'InternalException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Whether a whole-request failure is transient: a retryable code, the SDK's own verdict, a 5xx, or no answer at all
 * (network).
 */
export function isRetryableError(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  const e = error as Error & { $retryable?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number } };
  if (RETRYABLE_CODES.has(e.name) || e.name === 'TimeoutError' || e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return e.$fault === undefined; // never reached the service: network, timeout
  return status >= 500 || status === 429;
}

/**
 * The size EventBridge counts for an entry: the UTF-8 bytes of Source, DetailType, Detail and each
 * resource, plus 14 bytes for a Time.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0)
  );
}

export interface EventBridgePublisherOptions {
  client: EventBridgeClient;
  eventBusName: string;
}

/**
 * The bus entry of a CloudEvent: Source = source, DetailType = type, Detail = the whole envelope, Time = the change's
 * time.
 */
export function toEntry(event: CloudEvent, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: event.source,
    DetailType: event.type,
    Detail: JSON.stringify(event),
    Time: new Date(event.time),
  };
}

export function eventBridgePublisher({ client, eventBusName }: EventBridgePublisherOptions): EventPublisher {
  async function send(entries: PutEventsRequestEntry[]): Promise<PublishOutcome[]> {
    try {
      const out = await client.send(new PutEventsCommand({ Entries: entries }));
      return entries.map((_, i): PublishOutcome => {
        const result = out.Entries?.[i];
        if (result?.ErrorCode)
          return {
            ok: false,
            code: result.ErrorCode,
            message: result.ErrorMessage ?? result.ErrorCode,
            retryable: RETRYABLE_CODES.has(result.ErrorCode),
          };
        if (result?.EventId) return { ok: true };
        // No result for this entry: nothing says it was accepted, so send it again.
        return { ok: false, code: 'NoResult', message: 'PutEvents returned no result for this entry', retryable: true };
      });
    } catch (error) {
      const code = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return entries.map(() => ({ ok: false, code, message, retryable: isRetryableError(error) }));
    }
  }

  return {
    async publish(events) {
      const entries = events.map((e) => toEntry(e, eventBusName));
      const outcomes: PublishOutcome[] = new Array(entries.length);
      // Requests in order: up to 10 entries and 256 KiB each; an entry over the limit alone is permanent.
      let request: number[] = [];
      let size = 0;
      const flush = async () => {
        if (request.length === 0) return;
        const results = await send(request.map((i) => entries[i]!));
        request.forEach((index, k) => (outcomes[index] = results[k]!));
        request = [];
        size = 0;
      };
      for (const [i, entry] of entries.entries()) {
        const bytes = entrySize(entry);
        if (bytes > MAX_REQUEST_BYTES) {
          outcomes[i] = {
            ok: false,
            code: 'EntryTooLarge',
            message: `the entry is ${bytes} bytes; PutEvents takes at most ${MAX_REQUEST_BYTES}`,
            retryable: false,
          };
          continue;
        }
        if (request.length === MAX_ENTRIES_PER_REQUEST || size + bytes > MAX_REQUEST_BYTES) await flush();
        request.push(i);
        size += bytes;
      }
      await flush();
      return outcomes;
    },
  };
}
