/** Cooperative turns: a pause yields the event loop, requests in flight are counted, heavy ones wait for light ones. */
import {
  heavyTurn,
  inHeavyRequest,
  MAX_DEFER_MS,
  prioritizeLightRequests,
  requestStarted,
  requestsInFlight,
  turnPauser,
} from '../../../functions/runtime/turns';

afterEach(() => {
  prioritizeLightRequests(false);
  jest.useRealTimers();
});

/** Lets every callback queued now (and those they queue, a few rounds deep) run. */
const drain = async () => {
  for (let i = 0; i < 5; i++) await new Promise((done) => setImmediate(done));
};

/** Records when the promise settles, in `order`, under `name`. */
const track = (order: string[], name: string, promise: Promise<unknown>) => promise.then(() => void order.push(name));

it('a pause lets callbacks queued before it run first', async () => {
  const order: string[] = [];
  const pause = turnPauser();
  setImmediate(() => order.push('other request'));
  await pause();
  order.push('after the pause');
  expect(order).toEqual(['other request', 'after the pause']);
});

it('counts requests in flight, each ended once', () => {
  const before = requestsInFlight();
  const a = requestStarted();
  const b = requestStarted('heavy');
  expect(requestsInFlight()).toBe(before + 2);
  a.end();
  a.end();
  expect(requestsInFlight()).toBe(before + 1);
  b.end();
  expect(requestsInFlight()).toBe(before);
});

it('with priorities on, a heavy request starts only once the light requests in flight have ended', async () => {
  prioritizeLightRequests();
  const order: string[] = [];
  const light = requestStarted('light');
  const other = requestStarted('light');
  const heavy = requestStarted('heavy');
  const started = track(order, 'heavy admitted', heavy.admitted());
  const third = requestStarted('light');
  await track(order, 'light admitted', third.admitted());
  third.end();
  await drain();
  light.end();
  await drain();
  expect(order).toEqual(['light admitted']);
  other.end();
  await started;
  expect(order).toEqual(['light admitted', 'heavy admitted']);
  heavy.end();
});

it("with priorities on, a heavy request's pauses wait for light requests; a light request's never do", async () => {
  prioritizeLightRequests();
  const order: string[] = [];
  const heavy = requestStarted('heavy');
  await heavy.admitted();
  const light = requestStarted('light');
  const heavyWork = heavy.run(async () => {
    await turnPauser()();
    order.push('heavy slice');
  });
  const lightWork = light.run(async () => {
    await turnPauser()();
    order.push('light slice');
  });
  await lightWork;
  await drain();
  expect(order).toEqual(['light slice']);
  light.end();
  await heavyWork;
  expect(order).toEqual(['light slice', 'heavy slice']);
  heavy.end();
});

it("a heavy request's turn before a table call waits for light requests; outside a request it does not", async () => {
  prioritizeLightRequests();
  const order: string[] = [];
  const light = requestStarted('light');
  await heavyTurn();
  const heavy = requestStarted('heavy');
  const call = heavy.run(async () => {
    await heavyTurn();
    order.push('heavy call');
  });
  await light.run(async () => {
    await heavyTurn();
    order.push('light call');
  });
  await drain();
  expect(order).toEqual(['light call']);
  light.end();
  await call;
  expect(order).toEqual(['light call', 'heavy call']);
  heavy.end();
});

it("a heavy request's code knows it is heavy (its reads slice finely) only with priorities on", async () => {
  const seen = async () => {
    const heavy = requestStarted('heavy');
    const light = requestStarted('light');
    try {
      return [await heavy.run(async () => inHeavyRequest()), await light.run(async () => inHeavyRequest())];
    } finally {
      heavy.end();
      light.end();
    }
  };
  expect(await seen()).toEqual([false, false]);
  prioritizeLightRequests();
  expect(await seen()).toEqual([true, false]);
  expect(inHeavyRequest()).toBe(false);
});

it('with priorities off (Lambda, one request at a time), nothing waits', async () => {
  const light = requestStarted('light');
  const heavy = requestStarted('heavy');
  let slices = 0;
  await heavy.admitted();
  await heavy.run(async () => {
    await turnPauser()();
    slices++;
  });
  expect(slices).toBe(1);
  light.end();
  heavy.end();
});

it('a heavy request waits at most MAX_DEFER_MS in all, so light requests cannot starve it', async () => {
  jest.useFakeTimers();
  prioritizeLightRequests();
  const light = requestStarted('light');
  const heavy = requestStarted('heavy');
  let admitted = false;
  const admission = heavy.admitted().then(() => void (admitted = true));
  await jest.advanceTimersByTimeAsync(MAX_DEFER_MS - 1);
  expect(admitted).toBe(false);
  await jest.advanceTimersByTimeAsync(1);
  await admission;
  expect(admitted).toBe(true);
  // Its allowance spent, its pauses go on at once while the light request is still in flight.
  let sliced = false;
  const work = heavy.run(async () => {
    await turnPauser(() => Promise.resolve())();
    sliced = true;
  });
  await work;
  expect(sliced).toBe(true);
  light.end();
  heavy.end();
});
