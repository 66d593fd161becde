/**
 * The CA revocation call (setting caApiUrl, with lamassuEvents): a rule on the stack's bus for the
 * publisher's `ca.certificate.revoke.request` events (source `service/devmanager`) → an SQS queue
 * (dead-letter queue after 5 receives, with a depth alarm) → functions/handlers/events/ca-revocation.ts
 * with ReportBatchItemFailures, which PUTs each to Lamassu's CA. The function has no table access
 * and no AWS permission beyond its logs, the queue and (caApiAuthHeaderSecretArn) the one secret, with
 * kms:Decrypt on its customer-managed key (caApiAuthHeaderSecretKmsKeyArn) through Secrets Manager.
 */
import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REVOCATION_REQUEST_TYPE } from '../../functions/domain/slots';
import { LAMASSU_EVENT_SOURCE } from '../../functions/lamassu/events';
import type { DeploymentConfig } from '../config';
import { deadLetterQueue, workQueue } from './events';
import { ServiceFunction } from './service-function';

/**
 * Within it: up to 10 requests, each with 20 s of retries (functions/app/ca-revocation.ts CA_BACKOFF) and 5 s timeouts.
 */
export const CA_REVOCATION_TIMEOUT = Duration.seconds(60);
export const CA_REVOCATION_MAX_RECEIVES = 5;
/** Concurrent invocations the queue may drive: bounds the call rate on the CA. */
export const CA_REVOCATION_MAX_CONCURRENCY = 2;

export interface CaRevocationProps {
  readonly config: DeploymentConfig & { readonly caApiUrl: string };
  readonly table: ITable;
  readonly bus: IEventBus;
}

export class CaRevocation extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;
  readonly function: ServiceFunction;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: CaRevocationProps) {
    super(scope, id);
    const { config, table, bus } = props;
    const dlq = deadLetterQueue(
      this,
      'DeadLetterQueue',
      config,
      `CA revocation requests Lamassu's CA did not take after ${CA_REVOCATION_MAX_RECEIVES} receives`,
    );
    this.deadLetterQueue = dlq.queue;
    this.alarms.push(dlq.alarm);
    this.queue = workQueue(this, 'Queue', {
      functionTimeout: CA_REVOCATION_TIMEOUT,
      deadLetterQueue: this.deadLetterQueue,
      maxReceives: CA_REVOCATION_MAX_RECEIVES,
    });
    this.rule = new Rule(this, 'RevocationRequestRule', {
      eventBus: bus,
      description: "Device Manager CA revocation requests to Lamassu's CA API",
      eventPattern: { source: [LAMASSU_EVENT_SOURCE], detailType: [REVOCATION_REQUEST_TYPE] },
      // What EventBridge cannot deliver to the queue (after its retries) lands in the dead-letter queue too.
      targets: [
        new SqsQueue(this.queue, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    this.function = new ServiceFunction(this, 'Call', {
      entry: 'events/ca-revocation',
      description: "CA revocation call: revocation requests to Lamassu's CA API",
      config,
      table,
      tableAccess: 'none',
      timeout: CA_REVOCATION_TIMEOUT,
      environment: {
        CA_API_URL: config.caApiUrl,
        ...(config.caApiAuthHeaderSecretArn ? { CA_AUTH_HEADER_SECRET_ARN: config.caApiAuthHeaderSecretArn } : {}),
      },
    });
    // Only the one secret, only the call Powertools makes, and only when there is one.
    if (config.caApiAuthHeaderSecretArn)
      Grant.addToPrincipal({
        grantee: this.function.role,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [config.caApiAuthHeaderSecretArn],
      });
    // A secret under a customer-managed key: Decrypt on that key only, and only when Secrets Manager
    // asks on the function's behalf (kms:ViaService), not for direct use of the key.
    if (config.caApiAuthHeaderSecretKmsKeyArn) {
      const keyRegion = config.caApiAuthHeaderSecretKmsKeyArn.split(':')[3];
      this.function.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [config.caApiAuthHeaderSecretKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${keyRegion}.amazonaws.com` } },
        }),
      );
    }
    this.function.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: CA_REVOCATION_MAX_CONCURRENCY,
      }),
    );
  }
}
