/**
 * Cooperative turns. The local service runs every request on one event loop (a Lambda execution
 * environment serves one request at a time), so a long stretch of work in one request delays every
 * other one. Long work (JSONPath evaluation, reading a big page or a statistics walk) therefore
 * pauses after each slice of it (a number of steps or devices, counted by the caller): a pause
 * yields the event loop, so every pending callback of other requests runs before the work goes on.
 * Long reads slice finer while other requests are in flight (`requestsInFlight`).
 */

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

/** A pause function for one caller: each call yields the event loop once (setImmediate). */
export function turnPauser(yieldOnce: () => Promise<void> = () => new Promise((done) => setImmediate(done))) {
  return (): Promise<void> => yieldOnce();
}
