/**
 * The per-API pacing of AWS IoT calls on a fake clock: each API's calls are spaced at its rate, APIs
 * do not wait for each other, and the registry paces every attempt (retries included).
 */
import { DescribeThingCommand, IoTClient, ThrottlingException } from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import { pacer } from '../../../functions/adapters/iot/pacer';
import { parseApiRates } from '../../../functions/runtime/config';

/** A clock that stands still while the waits are recorded: every call is made at the same instant. */
function fakeTime() {
  const waits: { ms: number }[] = [];
  return {
    now: () => 1_000_000,
    sleep: async (ms: number) => void waits.push({ ms }),
    waits,
  };
}

it('spaces the calls of one API at its rate and lets other APIs through at once', async () => {
  const time = fakeTime();
  const pace = pacer({ rates: { UpdateCertificate: 4, default: 20 }, now: time.now, sleep: time.sleep });
  // Five syncs start together: their calls are handed out slots in order.
  await Promise.all(Array.from({ length: 5 }, () => pace.wait('UpdateCertificate')));
  expect(time.waits.map((w) => w.ms)).toEqual([250, 500, 750, 1000]);
  time.waits.length = 0;
  // A DescribeThing (default rate) does not queue behind UpdateCertificate.
  await pace.wait('DescribeThing');
  expect(time.waits).toEqual([]);
  await pace.wait('DescribeThing');
  expect(time.waits.map((w) => w.ms)).toEqual([50]);
});

it('an unpaced API (rate 0 or none) never waits', async () => {
  const time = fakeTime();
  const pace = pacer({ rates: { AttachThingPrincipal: 0 }, now: time.now, sleep: time.sleep });
  for (let i = 0; i < 100; i++) await pace.wait('AttachThingPrincipal');
  expect(time.waits).toEqual([]);
});

it('the registry paces every attempt of a call, a retried one too', async () => {
  const iot = mockClient(IoTClient);
  iot
    .on(DescribeThingCommand)
    .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }))
    .resolves({ thingName: 't', version: 1, attributes: {} });
  const paced: string[] = [];
  const registry = iotRegistry({
    client: new IoTClient({ region: 'eu-west-1' }),
    sleep: async () => undefined,
    pacer: { wait: async (operation) => void paced.push(operation) },
  });
  expect(await registry.describeThing('t')).toMatchObject({ name: 't', version: 1 });
  expect(paced).toEqual(['DescribeThing', 'DescribeThing']);
  iot.restore();
});

it('reads IOT_API_RATES as Api=rate pairs and refuses anything else', () => {
  expect(parseApiRates('UpdateCertificate=2,default=1.5')).toEqual({ UpdateCertificate: 2, default: 1.5 });
  expect(parseApiRates('')).toEqual({});
  expect(() => parseApiRates('UpdateCertificate=fast')).toThrow(
    "'UpdateCertificate=fast' is not <Api>=<calls per second>",
  );
});
