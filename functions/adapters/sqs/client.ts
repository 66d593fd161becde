/** The one SQS client factory. The endpoint is configuration (SQS_ENDPOINT), never code. */
import { SQSClient } from '@aws-sdk/client-sqs';

export function createSqsClient({ region, endpoint }: { region?: string; endpoint?: string } = {}): SQSClient {
  return new SQSClient({ region, endpoint, maxAttempts: 5 });
}
