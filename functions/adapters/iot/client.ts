/** The one AWS IoT client factory. The endpoint is configuration (IOT_ENDPOINT), never code. */
import { IoTClient } from '@aws-sdk/client-iot';

export function createIotClient({ region, endpoint }: { region?: string; endpoint?: string } = {}): IoTClient {
  return new IoTClient({ region, endpoint, maxAttempts: 3 });
}
