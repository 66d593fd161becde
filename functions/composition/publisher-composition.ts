/**
 * The composition root of the outbox publisher (stream → bus): EventBridge and SQS only, so the
 * publisher neither bundles nor loads the DynamoDB or IoT clients.
 */
import { lamassuEventsOf } from '../lamassu/events';
import { DEFAULT_PUBLISH_RETRY, outboxPublisher, type OutboxPublisher } from '../app/publish';
import type { DeadLetterQueue, EventPublisher } from '../app/ports';
import { createEventBridgeClient } from '../adapters/eventbridge/client';
import { eventBridgePublisher } from '../adapters/eventbridge/event-publisher';
import { createSqsClient } from '../adapters/sqs/client';
import { sqsDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import { ConfigError, loadPublisherConfig, type PublisherConfig } from '../runtime/config';
import { logger } from '../runtime/observability';

/** The outbox publisher on EventBridge and SQS, or on the adapters given (the local service's sink). */
function createPublisher(
  config: Pick<PublisherConfig, 'eventSource' | 'maxAttempts'> & Partial<PublisherConfig>,
  adapters: { bus?: EventPublisher; deadLetters?: DeadLetterQueue } = {},
): OutboxPublisher {
  const need = (value: string | undefined, variable: string) => {
    if (!value) throw new ConfigError(variable, 'is required');
    return value;
  };
  const bus =
    adapters.bus ??
    eventBridgePublisher({
      client: createEventBridgeClient({ region: config.region, endpoint: config.eventBridgeEndpoint }),
      eventBusName: need(config.eventBusName, 'EVENT_BUS_NAME'),
    });
  const deadLetters =
    adapters.deadLetters ??
    sqsDeadLetterQueue({
      client: createSqsClient({ region: config.region, endpoint: config.sqsEndpoint }),
      queueUrl: need(config.deadLetterQueueUrl, 'PUBLISH_DLQ_URL'),
    });
  return outboxPublisher({
    bus,
    deadLetters,
    source: config.eventSource,
    retry: { ...DEFAULT_PUBLISH_RETRY, attempts: config.maxAttempts },
    log: (message, detail) => logger.warn(message, detail),
    ...(config.lamassuEvents ? { derive: lamassuEventsOf } : {}),
  });
}

let currentPublisher: OutboxPublisher | undefined;

/** The process-wide publisher, created from the environment on first use (cold start). */
export function publisher(): OutboxPublisher {
  currentPublisher ??= createPublisher(loadPublisherConfig());
  return currentPublisher;
}

/** Test and local-service hook: replace the process-wide publisher. */
export function setPublisher(next: OutboxPublisher | undefined): void {
  currentPublisher = next;
}
