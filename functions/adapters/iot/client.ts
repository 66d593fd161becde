/** The one AWS IoT client factory. The endpoint is configuration (IOT_ENDPOINT), never code. */
import type { IoTClient } from '@aws-sdk/client-iot';
import { iotSdk } from './sdk';

export function createIotClient({ region, endpoint }: { region?: string; endpoint?: string } = {}): IoTClient {
  return new (iotSdk().IoTClient)({ region, endpoint, maxAttempts: 3 });
}
