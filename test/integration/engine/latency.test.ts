/**
 * Latency model (ENGINE_LATENCY_MS / `latencyMs`): every request waits on a timer before it is
 * handled. Asserted by the order of timers, not by time:
 * a timer set just after a request was sent, shorter than the latency, fires before the answer.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startEngine } from '@device-manager/local-engine';
import { createTable, startHarness, type Harness } from './support';

const LATENCY = 400;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ latencyMs: LATENCY });
  await createTable(h.client, 'fleet', { hash: 'pk' });
});
afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const first = <T>(call: Promise<T>, ms: number) =>
  Promise.race([call.then(() => 'answer'), new Promise((r) => setTimeout(r, ms, 'timer'))]);

it('answers a burst of requests only after the latency, with their effect', async () => {
  const puts = Array.from({ length: 8 }, (_, i) =>
    h.client.send(new PutItemCommand({ TableName: 'fleet', Item: { pk: S(`d-${i}`) } })),
  );
  // The engine's timers are set when the requests arrive, after this one.
  expect(await first(Promise.all(puts), LATENCY / 8)).toBe('timer');
  await Promise.all(puts);
  const got = await h.client.send(new GetItemCommand({ TableName: 'fleet', Key: { pk: S('d-7') } }));
  expect(got.Item?.pk).toEqual(S('d-7'));
});

it('refuses a latency that is not a whole number of milliseconds', async () => {
  await expect(startEngine({ latencyMs: -1 })).rejects.toThrow(RangeError);
  await expect(startEngine({ latencyMs: 2.5 })).rejects.toThrow(RangeError);
});
