/** Cooperative turns: a pause yields the event loop, and requests in flight are counted. */
import { requestStarted, requestsInFlight, turnPauser } from '../../../functions/runtime/turns';

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
  const b = requestStarted();
  expect(requestsInFlight()).toBe(before + 2);
  a();
  a();
  expect(requestsInFlight()).toBe(before + 1);
  b();
  expect(requestsInFlight()).toBe(before);
});
