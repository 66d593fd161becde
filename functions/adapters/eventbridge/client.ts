/** The one EventBridge client factory. The endpoint is configuration (EVENTBRIDGE_ENDPOINT), never code. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

export function createEventBridgeClient({
  region,
  endpoint,
}: {
  region?: string;
  endpoint?: string;
} = {}): EventBridgeClient {
  return new EventBridgeClient({ region, endpoint, maxAttempts: 3 });
}
