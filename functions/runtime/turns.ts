/**
 * Cooperative turns. The local service runs every request on one event loop (a Lambda execution
 * environment serves one request at a time), so a long stretch of work in one request delays every
 * other one. Long work (JSONPath evaluation, reading a big page or a statistics walk) therefore
 * pauses after each slice of it (a number of steps or bytes, counted by the caller); a pause lets
 * every pending callback of other requests run. While other requests are in flight, a pause also
 * rests twice as long as the slice took: a heavy request then takes at most about a third of the
 * event loop from the light ones beside it. Alone (always so in a Lambda), it only yields.
 */
import { performance } from 'node:perf_hooks';

/** The longest rest of one pause, whatever the slice took. */
export const MAX_REST_MS = 20;

let inFlight = 0;

/** Counts a request in flight until the returned function is called (once). */
export function requestStarted(): () => void {
  inFlight++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    inFlight--;
  };
}

/** Requests of this process in flight now. */
export const requestsInFlight = () => inFlight;

/** How long a pause rests after a slice of `sliceMs`, with `others` other requests in flight. */
export const restMs = (sliceMs: number, others: number) =>
  others > 0 ? Math.min(MAX_REST_MS, Math.max(0, 2 * sliceMs)) : 0;

/**
 * A pause function for one caller: each call yields the event loop (setImmediate), or rests per
 * `restMs` when other requests are in flight. The slice is the time since the last pause ended.
 */
export function turnPauser(
  sleep: (ms: number) => Promise<void> = (ms) =>
    new Promise((done) => (ms > 0 ? setTimeout(done, ms) : setImmediate(done))),
  now: () => number = () => performance.now(),
  others: () => number = () => Math.max(0, inFlight - 1),
): () => Promise<void> {
  let sliceStart = now();
  return async () => {
    await sleep(restMs(now() - sliceStart, others()));
    sliceStart = now();
  };
}
