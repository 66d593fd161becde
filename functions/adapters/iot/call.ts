/**
 * One AWS IoT call, paced per API and retried with bounded full-jitter backoff on throttling or a
 * transient service error (the SDK's own retries have already run out); other errors go to the caller
 * at once. Shared by every AWS IoT adapter, so each API keeps one pace whoever calls it.
 */
import { attemptDelay, type RetryPolicy } from '../../domain/backoff';
import type { Pacer } from './pacer';

export const DEFAULT_IOT_RETRY: RetryPolicy = { attempts: 6, baseMs: 100, capMs: 5000 };

/** Errors that mean "try again later". */
const TRANSIENT = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalFailureException',
  'InternalException',
]);

export const nameOf = (error: unknown) => (error instanceof Error ? error.name : '');

export interface IotCallOptions {
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: (message: string, detail: Record<string, unknown>) => void;
  /** Spaces the calls of each API at its rate (every attempt, retries included). */
  pacer?: Pacer;
}

export type IotCall = <T>(operation: string, send: () => Promise<T>) => Promise<T>;

export function iotCaller({
  retry = DEFAULT_IOT_RETRY,
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
  random = Math.random,
  log = () => undefined,
  pacer,
}: IotCallOptions): IotCall {
  return async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        await pacer?.wait(operation);
        return await send();
      } catch (error) {
        const delay = TRANSIENT.has(nameOf(error)) ? attemptDelay(retry, attempt, random()) : undefined;
        if (delay === undefined) throw error;
        log('iot: throttled; retrying', { operation, attempt, error: nameOf(error), delayMs: Math.round(delay) });
        await sleep(delay);
      }
    }
  };
}
