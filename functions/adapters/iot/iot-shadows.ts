/**
 * IotShadows on AWS IoT's data plane: UpdateThingShadow with `{"state":{"desired":...}}` (a merge: a null
 * value removes that key), paced and retried like the registry's calls.
 *
 * The data plane answers on an endpoint of the account (`<prefix>-ats.iot.<region>.amazonaws.com`): the
 * setting IOT_DATA_ENDPOINT, else the address DescribeEndpoint (`iot:Data-ATS`) names, asked once per
 * process. When the SDK's endpoint variables point every client elsewhere (AWS_ENDPOINT_URL, a local or
 * simulated AWS), the client follows them like every other client.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import type * as DataPlaneSdk from '@aws-sdk/client-iot-data-plane';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { IotShadows } from '../../app/ports';
import { type IotCallOptions, iotCaller } from './call';
import { iotSdk } from './sdk';

let dataPlane: typeof DataPlaneSdk | undefined;
/** `@aws-sdk/client-iot-data-plane`, required on the first shadow write (not at init: cold starts, like sdk.ts). */
function dataPlaneSdk(): typeof DataPlaneSdk {
  dataPlane ??= require('@aws-sdk/client-iot-data-plane') as typeof DataPlaneSdk;
  return dataPlane;
}

export interface IotShadowsOptions extends IotCallOptions {
  /** The control-plane client: DescribeEndpoint when no endpoint is configured. */
  control: IoTClient;
  region?: string;
  /** IOT_DATA_ENDPOINT: the data endpoint (host or URL); undefined: DescribeEndpoint. */
  endpoint?: string;
  /** The SDK's endpoint variables (AWS_ENDPOINT_URL_IOT_DATA_PLANE, AWS_ENDPOINT_URL). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Test hook: the data-plane client. */
  dataClient?: (endpoint: string | undefined) => IoTDataPlaneClient;
}

const asUrl = (address: string) => (/^https?:\/\//.test(address) ? address : `https://${address}`);

export function iotShadows({
  control,
  region,
  endpoint,
  env = process.env,
  dataClient = (url) => new (dataPlaneSdk().IoTDataPlaneClient)({ region, endpoint: url, maxAttempts: 3 }),
  ...options
}: IotShadowsOptions): IotShadows {
  const call = iotCaller(options);
  let client: Promise<IoTDataPlaneClient> | undefined;

  async function connect(): Promise<IoTDataPlaneClient> {
    if (endpoint) return dataClient(asUrl(endpoint));
    const out = await call('DescribeEndpoint', () =>
      control.send(new (iotSdk().DescribeEndpointCommand)({ endpointType: 'iot:Data-ATS' })),
    );
    if (!out.endpointAddress) throw new Error('AWS IoT named no iot:Data-ATS endpoint');
    const overridden = env.AWS_ENDPOINT_URL_IOT_DATA_PLANE || env.AWS_ENDPOINT_URL;
    return dataClient(overridden ? undefined : asUrl(out.endpointAddress));
  }

  return {
    async updateDesired(thingName, shadowName, desired) {
      // A failed lookup is not cached: the next sync asks again.
      client ??= connect().catch((error: unknown) => {
        client = undefined;
        throw error;
      });
      const data = await client;
      const payload = new TextEncoder().encode(JSON.stringify({ state: { desired } }));
      const { UpdateThingShadowCommand } = dataPlaneSdk();
      await call('UpdateThingShadow', () =>
        data.send(new UpdateThingShadowCommand({ thingName, ...(shadowName ? { shadowName } : {}), payload })),
      );
    },
  };
}
