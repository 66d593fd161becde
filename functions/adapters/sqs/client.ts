/** The one SQS client factory. The endpoint is configuration (SQS_ENDPOINT), never code. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsSdk } from './sdk';

export function createSqsClient({ region, endpoint }: { region?: string; endpoint?: string } = {}): SQSClient {
  // The resolved endpoint, not each queue URL's host: deployed they are the same host
  // (sqs.<region>.amazonaws.com); with SQS_ENDPOINT or AWS_ENDPOINT_URL set, the configured one is used.
  return new (sqsSdk().SQSClient)({ region, endpoint, maxAttempts: 5, useQueueUrlAsEndpoint: false });
}
