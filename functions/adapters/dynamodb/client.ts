/** The one DynamoDB client factory. The endpoint is configuration (DYNAMODB_ENDPOINT), never code. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClientConfig {
  region?: string;
  endpoint?: string;
}

export function createDocumentClient({ region, endpoint }: DynamoClientConfig = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ region, endpoint, maxAttempts: 5 });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
