/** Cooperative turns: what a pause rests (an injected clock and sleep: nothing here is timed). */
import { MAX_REST_MS, requestStarted, requestsInFlight, restMs, turnPauser } from '../../../functions/runtime/turns';

it('rests twice the slice while other requests are in flight, capped, and only yields alone', () => {
  expect(restMs(3, 1)).toBe(6);
  expect(restMs(3, 0)).toBe(0);
  expect(restMs(1000, 2)).toBe(MAX_REST_MS);
});

it('a pauser measures each slice from the end of the previous pause', async () => {
  let t = 0;
  let others = 1;
  const slept: number[] = [];
  const pause = turnPauser(
    async (ms) => {
      slept.push(ms);
      t += ms;
    },
    () => t,
    () => others,
  );
  t += 4; // a slice of 4 ms
  await pause();
  t += 2;
  await pause();
  others = 0; // alone: a yield (0), whatever the slice took
  t += 5;
  await pause();
  expect(slept).toEqual([8, 4, 0]);
});

it('counts requests in flight, each ended once', () => {
  const before = requestsInFlight();
  const a = requestStarted();
  const b = requestStarted();
  expect(requestsInFlight()).toBe(before + 2);
  a();
  a();
  expect(requestsInFlight()).toBe(before + 1);
  b();
  expect(requestsInFlight()).toBe(before);
});
