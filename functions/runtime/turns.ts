/**
 * Cooperative turns. The local service runs every request on one event loop (a Lambda execution
 * environment serves one request at a time), so a long stretch of work in one request delays every
 * other one. Long work (JSONPath evaluation, reading a big page or a statistics walk) therefore
 * pauses after each slice of it (a number of steps or devices, counted by the caller): a pause
 * yields the event loop, so every pending callback of other requests runs before the work goes on.
 * Long reads slice finer while other requests are in flight (`requestsInFlight`).
 *
 * Priorities (the local service turns them on, `prioritizeLightRequests`): a request is light or
 * heavy by its shape (functions/http/request-weight.ts). A heavy request starts, goes on after each
 * pause and makes each call to the table only once no light request is in flight, waiting at most
 * {@link MAX_DEFER_MS} in all:
 * a stream of heavy requests then holds the loop only between light ones, and a stream of light ones
 * cannot starve a heavy one. In Lambda a heavy request is the only one in flight: it never waits.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type RequestWeight = 'light' | 'heavy';

/** The most a heavy request waits for light ones, over all its waits (milliseconds). */
export const MAX_DEFER_MS = 1000;

interface TurnState {
  heavy: boolean;
  deferredMs: number;
}

export interface RequestTurn {
  readonly weight: RequestWeight;
  /** Resolves when the request may start: at once, unless it is heavy and light requests are in flight. */
  admitted(): Promise<void>;
  /** Runs the request's work as this request, so that its pauses wait as a heavy request's do. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the request (once; later calls do nothing). */
  end(): void;
}

const yieldTurn = () => new Promise<void>((done) => setImmediate(done));

let inFlight = 0;
let lights = 0;
/** Heavy requests waiting for the light ones in flight to end. */
const waiting = new Set<() => void>();
/** The request the running code belongs to; only with priorities on (async context tracking costs). */
let current: AsyncLocalStorage<TurnState> | undefined;

/** Turns priorities on (the local service) or off (the default: Lambda, tests). */
export function prioritizeLightRequests(on = true): void {
  current = on ? (current ?? new AsyncLocalStorage<TurnState>()) : undefined;
}

/** Until the light requests in flight have ended, or the request's deferral allowance is spent. */
function lightsEnded(state: TurnState): Promise<void> {
  const left = MAX_DEFER_MS - state.deferredMs;
  if (!current || !state.heavy || lights === 0 || left <= 0) return Promise.resolve();
  const since = Date.now();
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      waiting.delete(wake);
      state.deferredMs += Date.now() - since;
      resolve();
    };
    const timer = setTimeout(wake, left);
    waiting.add(wake);
  });
}

/** Counts a request in flight until `end`, light unless said otherwise. */
export function requestStarted(weight: RequestWeight = 'light'): RequestTurn {
  const state: TurnState = { heavy: weight === 'heavy', deferredMs: 0 };
  inFlight++;
  if (!state.heavy) lights++;
  let ended = false;
  return {
    weight,
    // A heavy request first lets the requests already received be counted, then waits for the light ones.
    admitted: () => (current && state.heavy ? yieldTurn().then(() => lightsEnded(state)) : Promise.resolve()),
    run: (work) => (current ? current.run(state, work) : work()),
    end() {
      if (ended) return;
      ended = true;
      inFlight--;
      if (state.heavy || --lights > 0 || waiting.size === 0) return;
      // After the callbacks already queued (the light request's answer is written first).
      setImmediate(() => {
        if (lights === 0) for (const wake of [...waiting]) wake();
      });
    },
  };
}

/**
 * A turn before a heavy request's next call to the table (priorities on): the light requests in
 * flight go first, so a heavy request that started before them does not go on reading beside them.
 * At once elsewhere.
 */
export function heavyTurn(): Promise<void> {
  const state = current?.getStore();
  return state ? lightsEnded(state) : Promise.resolve();
}

/**
 * Whether the running code belongs to a heavy request, with priorities on (the local service): its
 * long reads then go in small slices from their start, each followed by a turn, so a light request
 * that arrives meanwhile waits for one small slice, not a large one. Never in Lambda.
 */
export const inHeavyRequest = (): boolean => current?.getStore()?.heavy === true;

/** Requests of this process in flight now. */
export const requestsInFlight = () => inFlight;

/**
 * A pause function for one caller: each call yields the event loop once (setImmediate), then, in a
 * heavy request with priorities on, waits for the light requests in flight.
 */
export function turnPauser(yieldOnce: () => Promise<void> = yieldTurn) {
  return async (): Promise<void> => {
    await yieldOnce();
    await heavyTurn();
  };
}
