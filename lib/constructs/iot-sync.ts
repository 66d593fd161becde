/**
 * AWS IoT Core registry sync (docs/api.md, AWS IoT Core registry sync): a rule on the device events → an SQS queue
 * (dead-letter
 * queue after 5 receives) → functions/handlers/events/iot-sync.ts with ReportBatchItemFailures and
 * bounded concurrency. Things get a thing type (searchable `status` and `dms_owner`), which allows
 * 50 attributes where an untyped thing has 3. Only created when iotSync.enabled.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { nagPseudo } from './nag-ids';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnThingType } from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_IOT_API_RATES, type DeploymentConfig } from '../config';
import { deadLetterQueue, workQueue } from './events';
import { ServiceFunction } from './service-function';

/** The IoT calls of the sync, on things (and the thing type they are given). */
export const IOT_THING_ACTIONS: readonly string[] = [
  'iot:CreateThing',
  'iot:UpdateThing',
  'iot:DescribeThing',
  'iot:AttachThingPrincipal',
  'iot:DetachThingPrincipal',
];
/**
 * The IoT calls of the sync, on certificates: AttachPolicy and DetachPolicy are authorised on their
 * target, the certificate (docs/iot-provisioning.md).
 */
export const IOT_CERTIFICATE_ACTIONS: readonly string[] = [
  'iot:DescribeCertificate',
  'iot:UpdateCertificate',
  'iot:AttachPolicy',
  'iot:DetachPolicy',
];
/** Per-DMS provisioning (docs/iot-provisioning.md): the IoT calls on the DMSs' policies, by resource type. */
export const IOT_PROVISIONING_ACTIONS = {
  'policy/*': [
    'iot:GetPolicy',
    'iot:CreatePolicy',
    'iot:CreatePolicyVersion',
    'iot:ListPolicyVersions',
    'iot:DeletePolicyVersion',
  ],
  'thinggroup/*': [
    'iot:DescribeThingGroup',
    'iot:CreateThingGroup',
    'iot:AddThingToThingGroup',
    'iot:RemoveThingFromThingGroup',
  ],
  'provisioningtemplate/*': [
    'iot:DescribeProvisioningTemplate',
    'iot:CreateProvisioningTemplate',
    'iot:CreateProvisioningTemplateVersion',
    'iot:ListProvisioningTemplateVersions',
    'iot:DeleteProvisioningTemplateVersion',
  ],
} as const satisfies Record<string, readonly string[]>;
/**
 * What AWS IoT does with the provisioning role when a device connects through a DMS's JITP template:
 * create its thing, activate and attach its certificate, attach policies and put it in thing groups.
 */
export const IOT_JITP_ACTIONS: readonly string[] = [
  'iot:CreateThing',
  'iot:DescribeThing',
  'iot:UpdateThing',
  'iot:AttachThingPrincipal',
  'iot:DescribeCertificate',
  'iot:UpdateCertificate',
  'iot:AttachPolicy',
  'iot:GetPolicy',
  'iot:DescribeThingGroup',
  'iot:AddThingToThingGroup',
];
/** The registration call of each certificateRegistration setting (none for `none`). */
export const IOT_REGISTRATION_ACTIONS = {
  'without-ca': ['iot:RegisterCertificateWithoutCA'],
  'with-ca': ['iot:RegisterCertificate'],
  none: [],
} as const satisfies Record<string, readonly string[]>;
/** The data-plane call of the identity actions (docs/events.md, Device shadow: identity actions), on things. */
export const IOT_SHADOW_ACTIONS: readonly string[] = ['iot:UpdateThingShadow'];
/** The lookup of the account's data endpoint, when iotSync.dataEndpoint is not set. */
export const IOT_ENDPOINT_ACTIONS: readonly string[] = ['iot:DescribeEndpoint'];
/**
 * Why `cert/*`, what it exposes, and how to narrow it (also in docs/operations.md). AWS IoT names a
 * certificate by its fingerprint, unknown until a device's certificate is bound, and certificates take
 * no tags, so no ARN pattern or condition key can single out this fleet's certificates.
 */
export const IOT_CERTIFICATE_BLAST_RADIUS =
  'Certificate ids are the fingerprints of the certificates ' +
  'bound to devices, known only at run time, and AWS IoT certificates ' +
  'take no tags, so iot:DescribeCertificate and iot:UpdateCertificate ' +
  'apply to every certificate of this account and region. Blast ' +
  'radius: a compromised sync function could set ANY certificate ' +
  'of the account and region to INACTIVE or REVOKED (disconnecting ' +
  'devices this service does not manage). Narrow it by deploying ' +
  'the fleet in an account (or region) whose IoT registry holds ' +
  'only this fleet, or by a permissions boundary or SCP that ' +
  'denies iot:UpdateCertificate outside the fleet.';
export const IOT_SYNC_TIMEOUT = Duration.seconds(60);
/** Receives of a message before it moves to the dead-letter queue. */
export const IOT_SYNC_MAX_RECEIVES = 5;
/** Concurrent invocations the queue may drive; each paces its calls at its share of the API rates. */
export const IOT_SYNC_MAX_CONCURRENCY = 5;
/** How long a message waits in the queue: an import's sync backlog at the API rates can take days. */
export const IOT_SYNC_RETENTION = Duration.days(14);

/** IOT_API_RATES of one function instance: its share of the deployment's rates (every instance may run at once). */
export function instanceApiRates(rates: Readonly<Record<string, number>>): string {
  return Object.entries({ ...DEFAULT_IOT_API_RATES, ...rates })
    .map(([api, rate]) => `${api}=${Number((rate / IOT_SYNC_MAX_CONCURRENCY).toFixed(3))}`)
    .join(',');
}

export interface IotSyncProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
  readonly bus: IEventBus;
}

export class IotSync extends Construct {
  readonly thingType: CfnThingType;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;
  readonly function: ServiceFunction;
  /** The role AWS IoT assumes to run the DMSs' JITP templates (docs/iot-provisioning.md). */
  readonly provisioningRole: Role;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: IotSyncProps) {
    super(scope, id);
    const { config, table, bus } = props;
    const { region, account, partition } = Stack.of(this);
    const registration = config.iotSync.certificateRegistration ?? 'without-ca';
    const identityActions = config.iotSync.identityActions ?? true;

    this.thingType = new CfnThingType(this, 'ThingType', {
      thingTypeName: `DeviceManager-${config.stageName}`,
      thingTypeProperties: {
        thingTypeDescription: 'Devices of the Device Manager registry',
        searchableAttributes: ['status', 'dms_owner'],
      },
    });
    // Retained whatever removalPolicy says: AWS IoT refuses to delete a thing type that things still
    // use (a stack deletion would fail), and the things outlive the stack anyway.
    this.thingType.applyRemovalPolicy(RemovalPolicy.RETAIN);

    const dlq = deadLetterQueue(
      this,
      'DeadLetterQueue',
      config,
      `device events the IoT sync failed ${IOT_SYNC_MAX_RECEIVES} times`,
    );
    this.deadLetterQueue = dlq.queue;
    this.alarms.push(dlq.alarm);
    this.queue = workQueue(this, 'Queue', {
      functionTimeout: IOT_SYNC_TIMEOUT,
      deadLetterQueue: this.deadLetterQueue,
      maxReceives: IOT_SYNC_MAX_RECEIVES,
      retentionPeriod: IOT_SYNC_RETENTION,
    });
    this.rule = new Rule(this, 'DeviceEventsRule', {
      eventBus: bus,
      description: 'Device Manager device events to the AWS IoT registry sync',
      // dms.update too: a DMS's AWS IoT settings (policies, groups, template) reach AWS IoT at once.
      eventPattern: { source: [config.eventSource], detailType: [...Match.prefix('device.'), 'dms.update'] },
      // What EventBridge cannot deliver to the queue (after its retries) lands in the sync's DLQ too.
      targets: [
        new SqsQueue(this.queue, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });

    const iotArn = (resource: string) => `arn:${partition}:iot:${region}:${account}:${resource}`;
    this.provisioningRole = new Role(this, 'ProvisioningRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com'),
      description: "AWS IoT runs the DMSs' JITP provisioning templates with this role",
      inlinePolicies: {
        jitp: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: [...IOT_JITP_ACTIONS],
              resources: ['thing/*', 'cert/*', 'policy/*', 'thinggroup/*'].map(iotArn),
            }),
          ],
        }),
      },
    });

    this.function = new ServiceFunction(this, 'Sync', {
      entry: 'events/iot-sync',
      description: 'AWS IoT registry sync: device events to things and certificates',
      config,
      table,
      // The device and its identity version read by key; its sync state (one item per device) read and written;
      // a `revoked-still-active-in-iot` finding resolved: the device updated, its finding entry deleted,
      // its outbox records put (docs/api.md, Fleet posture).
      tableAccess: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
      timeout: IOT_SYNC_TIMEOUT,
      environment: {
        IOT_SYNC_ENABLED: 'true',
        IOT_METADATA_KEYS: config.iotSync.metadataKeys.join(','),
        IOT_THING_TYPE: this.thingType.ref,
        IOT_DECOMMISSION_CERTIFICATE_STATUS: config.iotSync.decommissionCertificateStatus ?? 'INACTIVE',
        IOT_API_RATES: instanceApiRates(config.iotSync.apiRates ?? {}),
        IOT_CERTIFICATE_REGISTRATION: registration,
        IOT_IDENTITY_ACTIONS: String(identityActions),
        ...(identityActions && config.iotSync.shadowName ? { IOT_SHADOW_NAME: config.iotSync.shadowName } : {}),
        ...(identityActions && config.iotSync.dataEndpoint ? { IOT_DATA_ENDPOINT: config.iotSync.dataEndpoint } : {}),
        IOT_PROVISIONING_ROLE_ARN: this.provisioningRole.roleArn,
      },
    });
    this.function.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: IOT_SYNC_MAX_CONCURRENCY,
      }),
    );

    Grant.addToPrincipal({
      grantee: this.function.role,
      actions: [...IOT_THING_ACTIONS],
      resourceArns: [iotArn('thing/*'), iotArn(`thingtype/${this.thingType.ref}`)],
    });
    if (identityActions)
      Grant.addToPrincipal({
        grantee: this.function.role,
        actions: [...IOT_SHADOW_ACTIONS],
        // A named shadow's ARN is its thing's followed by /<shadow name>: thing/* holds both.
        resourceArns: [iotArn('thing/*')],
      });
    /** Why each statement on `*` is there: one acknowledgement for the role names them all. */
    const onEverything: string[] = [];
    if (identityActions && !config.iotSync.dataEndpoint) {
      this.function.role.addToPrincipalPolicy(
        new PolicyStatement({ sid: 'DescribeEndpoint', actions: [...IOT_ENDPOINT_ACTIONS], resources: ['*'] }),
      );
      onEverything.push(
        'iot:DescribeEndpoint takes no resource in IAM; it only reads the ' +
          "account's data endpoint for the shadow writes (set iotSync.dataEndpoint to drop it)",
      );
    }
    Grant.addToPrincipal({
      grantee: this.function.role,
      actions: [...IOT_CERTIFICATE_ACTIONS],
      resourceArns: [iotArn('cert/*')],
    });
    for (const [resource, actions] of Object.entries(IOT_PROVISIONING_ACTIONS))
      Grant.addToPrincipal({
        grantee: this.function.role,
        actions: [...actions],
        resourceArns: [iotArn(resource), ...(resource === 'thinggroup/*' ? [iotArn('thing/*')] : [])],
      });
    // The templates name the provisioning role: the sync may hand AWS IoT that role and no other.
    this.function.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.provisioningRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'iot.amazonaws.com' } },
      }),
    );
    const registers = IOT_REGISTRATION_ACTIONS[registration];
    if (registers.length > 0) {
      // A statement of its own (a Sid is never merged), so the one `*` resource stays beside its reason
      // instead of being folded into active tracing's X-Ray statement.
      this.function.role.addToPrincipalPolicy(
        new PolicyStatement({ sid: 'RegisterCertificate', actions: [...registers], resources: ['*'] }),
      );
      onEverything.push(
        `${registers.join(' and ')} takes no resource in IAM (the certificate does not exist before the call), ` +
          'so the resource is *; it is the one registration call of the certificateRegistration setting ' +
          `(${registration})`,
      );
    }
    if (onEverything.length > 0)
      Validations.of(this.function.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${onEverything.join('. ')}.`,
      });
    const pseudo = nagPseudo(Stack.of(this));
    const nagArn = (resource: string) =>
      `AwsSolutions-IAM5[Resource::arn:${pseudo.partition}:iot:${pseudo.region}:${pseudo.account}:${resource}]`;
    Validations.of(this.function.role).acknowledge({
      id: nagArn('thing/*'),
      reason:
        'The sync names its things at run time (one per device id, ' +
        'created by the sync itself), so the resource is every thing ' +
        'of this account and region; AWS IoT allows no narrower pattern ' +
        'for device-derived names, and the actions are the five thing ' +
        'calls the sync makes.',
    });
    Validations.of(this.function.role).acknowledge({
      id: nagArn('cert/*'),
      reason: IOT_CERTIFICATE_BLAST_RADIUS,
    });
    const dmsNamed =
      "are named by the DMSs' AWS IoT settings (PUT /v2/dms/{id}), known only at run time, so the resource " +
      'is every one of its type in this account and region; the actions are the ones provisioning makes.';
    Validations.of(this.function.role).acknowledge({ id: nagArn('policy/*'), reason: `IoT policies ${dmsNamed}` });
    Validations.of(this.function.role).acknowledge({ id: nagArn('thinggroup/*'), reason: `Thing groups ${dmsNamed}` });
    Validations.of(this.function.role).acknowledge({
      id: nagArn('provisioningtemplate/*'),
      reason: `Provisioning templates ${dmsNamed}`,
    });
    for (const resource of ['thing/*', 'cert/*', 'policy/*', 'thinggroup/*'])
      Validations.of(this.provisioningRole).acknowledge({
        id: nagArn(resource),
        reason:
          'AWS IoT assumes this role when an unknown device connects through a JITP template: the thing, ' +
          'certificate, policies and groups it provisions are named by the template at connection time, so ' +
          'no narrower resource exists; the actions are those a JITP template performs.',
      });
  }
}
