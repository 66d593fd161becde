import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { createTableInput } from '../../functions/adapters/dynamodb/schema';
import { HTTP_ROUTES, type HttpRoute } from '../../functions/http/routes';
import { loadConfig } from '../../functions/runtime/config';
import { grantTableAccess, tableActionsOf } from '../../lib/constructs/service-function';
import {
  asArray,
  refOf,
  resourcesOf,
  statementsOfRole,
  isXray,
  type Statement,
  type Synthesized,
  synthesize,
  defaultTableEnvironment,
} from './helpers';
import { EVERYTHING_ON } from './profiles';

const READ = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const WRITE = [
  ...READ,
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
].sort();
const EXPECTED_ACTIONS: Record<HttpRoute['table'], string[]> = { none: [], read: READ, write: WRITE };

let dev: Synthesized;
beforeAll(() => {
  dev = synthesize();
});

/** The function behind a route, followed through the template: route → integration → function. */
function functionOfRoute(s: Synthesized, route: HttpRoute): { id: string; props: Record<string, any> } {
  const resources = s.template.toJSON().Resources;
  const [, cfnRoute] =
    resourcesOf(s.template, 'AWS::ApiGatewayV2::Route').find(
      ([, r]) => r.Properties?.RouteKey === `${route.method} ${route.path}`,
    ) ?? [];
  if (!cfnRoute) throw new Error(`no route ${route.method} ${route.path}`);
  const target = cfnRoute.Properties!.Target['Fn::Join'][1] as unknown[];
  expect(target[0]).toBe('integrations/');
  const integration = resources[refOf(target[1])!];
  expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  const id = refOf(integration.Properties.IntegrationUri)!;
  expect(resources[id].Type).toBe('AWS::Lambda::Function');
  return { id, props: resources[id].Properties };
}

/** Logical id of the sweeper's queue whose construct id starts with `prefix` (SweeperJobsQueue, ...). */
function queueId(template: Synthesized['template'], prefix: string): string {
  return resourcesOf(template, 'AWS::SQS::Queue').find(([id]) => id.startsWith(prefix))![0];
}

/** What a route that starts background work gets: both queue URLs (the task router's configuration). */
function taskQueueEnvironment(template: Synthesized['template']) {
  return {
    SWEEP_QUEUE_URL: { Ref: queueId(template, 'SweeperTransitionsQueue') },
    JOB_QUEUE_URL: { Ref: queueId(template, 'SweeperJobsQueue') },
  };
}

/** Logical id of the sweeper function. */
function sweeperId(s: Synthesized): string {
  return s.stack.getLogicalId(s.stack.sweeper.function.function.node.defaultChild as CfnFunction);
}

/** Logical ids and timeouts of the event functions (test/cdk/events.test.ts covers them). */
function eventFunctions(s: Synthesized): Map<string, number> {
  const id = (f: { function: { node: { defaultChild?: unknown } } }) =>
    s.stack.getLogicalId(f.function.node.defaultChild as CfnFunction);
  return new Map([
    [id(s.stack.events.publisher), 60],
    [id(s.stack.events.certificateIntake), 30],
    [id(s.stack.sweeper.worker), 300],
    [id(s.stack.counters.function), 60],
  ]);
}

/** Every function that uses the table: the routes with table access, and the sweeper. */
function tableFunctionIds(s: Synthesized): string[] {
  return [
    ...HTTP_ROUTES.filter((r) => r.table !== 'none').map((r) => functionOfRoute(s, r).id),
    sweeperId(s),
    s.stack.getLogicalId(s.stack.sweeper.worker.function.node.defaultChild as CfnFunction),
  ];
}

describe('the device table', () => {
  it('has exactly the keys, attributes and indexes of the single-table schema', () => {
    const local = createTableInput('unused');
    const tables = resourcesOf(dev.template, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const table = tables[0]![1] as { Properties: Record<string, any> };
    expect(table.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table.Properties.AttributeDefinitions).toEqual(expect.arrayContaining(local.AttributeDefinitions!));
    expect(table.Properties.AttributeDefinitions).toHaveLength(local.AttributeDefinitions!.length);
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('streams both images, keeps point-in-time recovery and expires items on the TTL attribute', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('is retained, with deletion protection, by default', () => {
    dev.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('is deleted with the stack, unprotected, when removalPolicy is destroy', () => {
    const { template } = synthesize({ removalPolicy: 'destroy', stageName: 'scratch' });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    for (const [, logGroup] of resourcesOf(template, 'AWS::Logs::LogGroup'))
      expect(logGroup.DeletionPolicy).toBe('Delete');
  });
});

describe('the HTTP API', () => {
  it('has one route per HTTP_ROUTES entry and no other, each but the health check behind the IAM authorizer', () => {
    const routes = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    // Lamassu's health check is the one route without authorizer (test/cdk/auth.test.ts).
    for (const route of routes)
      expect(route.AuthorizationType).toBe(route.RouteKey === 'GET /api/devmanager/health' ? 'NONE' : 'AWS_IAM');
  });

  it.each(HTTP_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'routes %s to its own function',
    (_key, route) => {
      const fn = functionOfRoute(dev, route);
      expect(fn.props.Description).toBe(`${route.method} ${route.path}`);
    },
  );

  it('has one function per route (none shared)', () => {
    const ids = HTTP_ROUTES.map((route) => functionOfRoute(dev, route).id);
    expect(new Set(ids).size).toBe(HTTP_ROUTES.length);
    // The only other functions are the sweeper and the event functions.
    expect(
      resourcesOf(dev.template, 'AWS::Lambda::Function')
        .map(([id]) => id)
        .sort(),
    ).toEqual([...ids, sweeperId(dev), ...eventFunctions(dev).keys()].sort());
  });

  it('deploys a throttled default stage that writes JSON access logs to a log group with retention', () => {
    const stages = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1];
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
    });
    const logGroup = dev.template.toJSON().Resources[refOf(stage.Properties!.AccessLogSettings.DestinationArn)!];
    expect(logGroup).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
    const format = JSON.parse(stage.Properties!.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
  });

  it('takes throttling from the configuration', () => {
    const { template } = synthesize({ throttle: { rateLimit: 20, burstLimit: 40 } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });
});

describe('the functions', () => {
  it('all run nodejs22.x on arm64 with 512 MB; the API functions time out after 10 s', () => {
    for (const [id, fn] of resourcesOf(dev.template, 'AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: id === sweeperId(dev) ? 60 : (eventFunctions(dev).get(id) ?? 10),
        Handler: 'index.handler',
      });
      // Source maps are applied at run time only with the `sourceMaps` setting (docs/cold-starts.md).
      expect(fn.Properties?.Environment?.Variables?.NODE_OPTIONS).toBeUndefined();
    }
  });

  it('apply source maps at run time on every function with `sourceMaps: true`', () => {
    const { template } = synthesize({ sourceMaps: true });
    const fns = resourcesOf(template, 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(HTTP_ROUTES.length);
    for (const [, fn] of fns) expect(fn.Properties!.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(() => synthesize({ sourceMaps: 'yes' })).toThrow('deviceManager.sourceMaps must be true or false');
  });

  it('log to the one function log group, with the configured retention', () => {
    const resources = dev.template.toJSON().Resources;
    const logGroups = resourcesOf(dev.template, 'AWS::Lambda::Function')
      .filter(([id]) => !id.startsWith('CustomResourceHandler') && !id.startsWith('AWS'))
      .map(([, fn]) => refOf(fn.Properties!.LoggingConfig?.LogGroup));
    expect(logGroups.length).toBe(HTTP_ROUTES.length + 1 + eventFunctions(dev).size);
    // One group for all (Lambda names each function's streams apart): the stack stays under 500 resources.
    expect(new Set(logGroups)).toEqual(new Set([expect.stringMatching(/^FunctionLogs/)]));
    for (const id of logGroups)
      expect(resources[id!]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'Retain',
      });

    const { template } = synthesize({ logRetentionDays: 90 });
    for (const [, logGroup] of resourcesOf(template, 'AWS::Logs::LogGroup'))
      expect(logGroup.Properties!.RetentionInDays).toBe(90);
  });

  it.each(HTTP_ROUTES.map((r) => [r.handler, r] as const))(
    '%s gets the table settings only if it uses the table',
    (_handler, route) => {
      const variables = functionOfRoute(dev, route).props.Environment?.Variables;
      const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
      if (route.table === 'none') {
        expect(variables).toBeUndefined();
      } else {
        const secretId = resourcesOf(dev.template, 'AWS::SecretsManager::Secret')[0]![0];
        expect(variables).toEqual({
          ...defaultTableEnvironment(tableId),
          BOOKMARK_SECRET_ARN: { Ref: secretId },
          ...(route.sendsTasks ? taskQueueEnvironment(dev.template) : {}),
          ...importEnvironment(route),
        });
      }
    },
  );

  it('all get the indexed metadata keys (the OpenAPI function too), which the runtime loader reads back', () => {
    const s = synthesize({ indexedMetadataKeys: ['firmware_version', 'site.building'] });
    const functions = Object.values(
      s.template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: { Environment?: { Variables?: Record<string, string> } } }
      >,
    ).filter((r) => r.Type === 'AWS::Lambda::Function');
    const withKeys = functions.filter(
      (f) => f.Properties.Environment?.Variables?.INDEXED_METADATA_KEYS === 'firmware_version,site.building',
    );
    expect(withKeys.length).toBeGreaterThanOrEqual(HTTP_ROUTES.length + 1);
    expect(
      loadConfig({ TABLE_NAME: 't', INDEXED_METADATA_KEYS: 'firmware_version,site.building' }).indexedMetadataKeys,
    ).toEqual(['firmware_version', 'site.building']);
  });

  it('that use the table, the sweeper included, all get the configured runtime settings', () => {
    const s = synthesize({
      listShards: 8,
      statsShards: 16,
      dueShards: 32,
      groupMaxDepth: 3,
      renewalDefaults: { preventiveDelta: '90d', criticalDelta: '36h' },
    });
    const resources = s.template.toJSON().Resources;
    const ids = tableFunctionIds(s);
    expect(ids).toHaveLength(HTTP_ROUTES.filter((r) => r.table !== 'none').length + 2);
    for (const id of ids) {
      expect(resources[id].Properties.Environment.Variables).toMatchObject({
        LIST_SHARDS: '8',
        STATS_SHARDS: '16',
        DUE_SHARDS: '32',
        GROUP_MAX_DEPTH: '3',
        DEFAULT_PREVENTIVE_DELTA: '90d',
        DEFAULT_CRITICAL_DELTA: '36h',
      });
    }
  });

  // The names and ranges must be the runtime loader's: a deployed value must never fail a cold start.
  const extremes: [string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      'the largest',
      {
        listShards: 64,
        statsShards: 100,
        dueShards: 64,
        groupMaxDepth: 50,
        renewalDefaults: { preventiveDelta: '365d', criticalDelta: '1d12h' },
      },
      {
        listShards: 64,
        statsShards: 100,
        dueShards: 64,
        groupMaxDepth: 50,
        renewalDefaults: { preventive_delta: '365d', critical_delta: '1d12h' },
      },
    ],
    [
      'the smallest',
      {
        listShards: 1,
        statsShards: 1,
        dueShards: 1,
        groupMaxDepth: 1,
        renewalDefaults: { preventiveDelta: '2m', criticalDelta: '1m' },
      },
      {
        listShards: 1,
        statsShards: 1,
        dueShards: 1,
        groupMaxDepth: 1,
        renewalDefaults: { preventive_delta: '2m', critical_delta: '1m' },
      },
    ],
  ];
  it.each(extremes)(
    'hand %s settings to the runtime loader (functions/runtime/config.ts), which reads them back',
    (_name, raw, expected) => {
      const s = synthesize(raw);
      const resources = s.template.toJSON().Resources;
      for (const id of tableFunctionIds(s)) {
        const env = { ...resources[id].Properties.Environment.Variables, TABLE_NAME: 'devices-test' } as Record<
          string,
          string
        >;
        expect(loadConfig(env)).toMatchObject({ tableName: 'devices-test', ...expected });
      }
    },
  );
});

/** The routes that create and start server-side imports (lib/constructs/imports.ts). */
const IMPORT_STARTERS: ReadonlySet<string> = new Set(['create-import', 'start-import']);

/** The import routes' extra environment: the bucket (the task queues come with `sendsTasks`). */
function importEnvironment(route: HttpRoute): Record<string, unknown> {
  if (!IMPORT_STARTERS.has(route.handler)) return {};
  const bucket = resourcesOf(dev.template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('ImportsFiles'))![0];
  return { IMPORT_BUCKET: { Ref: bucket } };
}

describe('least privilege', () => {
  it.each(HTTP_ROUTES.map((r) => [r.handler, r.table, r] as const))(
    '%s (table access %s) has exactly the actions its route entry implies',
    (_handler, access, route) => {
      const fn = functionOfRoute(dev, route);
      const roleId = refOf(fn.props.Role)!;
      const statements = statementsOfRole(dev.template, roleId);
      const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
      const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
      const indexArn = { 'Fn::Join': ['', [tableArn, '/index/*']] };

      const dynamo = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
      const actions = [...new Set(dynamo.flatMap((s) => asArray(s.Action)))].sort();
      expect(actions).toEqual(route.actions ? [...route.actions].sort() : EXPECTED_ACTIONS[access]);
      for (const statement of dynamo) {
        expect(statement.Effect).toBe('Allow');
        for (const resource of asArray(statement.Resource)) {
          expect([tableArn, indexArn]).toContainEqual(resource);
          // Only Query means anything on an index.
          if (JSON.stringify(resource) === JSON.stringify(indexArn))
            expect(asArray(statement.Action)).toEqual(['dynamodb:Query']);
        }
      }

      // Logs: only its own log group; the bookmark key: GetSecretValue (all Powertools calls), that secret only;
      // the import routes: their bucket's files (lib/constructs/imports.ts); nothing else.
      const imports = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
      expect(imports.flatMap((s) => asArray(s.Action)).sort()).toEqual(
        IMPORT_STARTERS.has(route.handler) ? ['s3:GetObject', 's3:ListBucket', 's3:PutObject'] : [],
      );
      const others = statements.filter((s) => !dynamo.includes(s) && !imports.includes(s));
      const secretId = resourcesOf(dev.template, 'AWS::SecretsManager::Secret')[0]![0];
      expect(others).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [refOf(fn.props.LoggingConfig.LogGroup), 'Arn'] },
        },
        ...(access === 'none'
          ? []
          : [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } }]),
        // A route that starts background work sends to the jobs queue, and only there.
        ...(route.sendsTasks
          ? [
              {
                Effect: 'Allow',
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': [queueId(dev.template, 'SweeperJobsQueue'), 'Arn'] },
              },
            ]
          : []),
        // CA registration: its one AWS IoT action, on `*` (it takes no resource in IAM), in a statement of its own.
        ...(route.iot ? [{ Effect: 'Allow', Action: route.iot[0], Resource: '*', Sid: 'IotCa' }] : []),
      ]);
      expect(route.iot?.length ?? 1).toBe(1);
    },
  );

  it('refuses an explicit table grant outside the write level (no Scan, no wildcard)', () => {
    for (const actions of [['dynamodb:GetItem', 'dynamodb:Scan'], ['dynamodb:*'], []]) {
      expect(() => tableActionsOf({ actions })).toThrow(
        /^table actions must be a non-empty subset of dynamodb:GetItem, /,
      );
    }
    expect(tableActionsOf({ actions: ['dynamodb:GetItem'] })).toEqual(['dynamodb:GetItem']);
  });

  it('grants Query on the indexes only to a function that queries', () => {
    const stack = new Stack();
    const table = new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    grantTableAccess(role, table, { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] });
    const roleId = stack.getLogicalId(role.node.defaultChild as never);
    const tableId = stack.getLogicalId(table.node.defaultChild as never);
    expect(statementsOfRole(Template.fromStack(stack), roleId)).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
    ]);
  });

  it.each([
    ['defaults', () => dev],
    ['IoT sync on', () => synthesize({ iotSync: { enabled: true, metadataKeys: ['firmware_version'] } })],
  ])(
    'uses no managed policies (no AWSLambdaBasicExecutionRole) and no wildcard action or resource (%s)',
    (_name, stack) => {
      const { template } = stack();
      for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
        expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
        // Functions' roles, the one AWS IoT assumes for JITP templates (inline policy), and the presence
        // rule's (AWS IoT delivers its messages to SQS with it).
        const iot = role.Properties!.Policies || id.startsWith('PresenceRuleRole');
        const service = iot ? 'iot.amazonaws.com' : 'lambda.amazonaws.com';
        expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: service } },
        ]);
      }
      const statements = resourcesOf(template, 'AWS::IAM::Policy').flatMap(
        ([, p]) => p.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
      expect(statements.length).toBeGreaterThan(0);
      // Active tracing's X-Ray statement is one wildcard resource (X-Ray has no resource ARNs); the IoT
      // sync's certificate registration the other (the certificate does not exist before the call).
      const registration = (s: Statement & { Sid?: string }) =>
        s.Sid === 'RegisterCertificate' && JSON.stringify(s.Action) === '"iot:RegisterCertificateWithoutCA"';
      // And the lookup of the AWS IoT data endpoint (the shadow writes), which takes no resource either.
      const lookup = (s: Statement & { Sid?: string }) =>
        s.Sid === 'DescribeEndpoint' && JSON.stringify(s.Action) === '"iot:DescribeEndpoint"';
      // And CA registration (GetRegistrationCode, RegisterCACertificate: no resource in IAM).
      const ca = (s: Statement & { Sid?: string }) =>
        s.Sid === 'IotCa' &&
        ['"iot:GetRegistrationCode"', '"iot:RegisterCACertificate"'].includes(JSON.stringify(s.Action));
      const exempt = (s: Statement) => isXray(s) || registration(s) || lookup(s) || ca(s);
      for (const statement of (statements as Statement[]).filter((s) => !exempt(s))) {
        for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
        for (const resource of asArray(statement.Resource)) expect(resource).not.toBe('*');
      }
    },
  );
});

describe('the stack', () => {
  it("stays within CloudFormation's 500 resources, with defaults and with every feature on", () => {
    const count = (s: Synthesized) => Object.keys(s.template.toJSON().Resources).length;
    // `cdk deploy` refuses more than 500; a new route costs about 7.
    expect(count(dev)).toBeLessThanOrEqual(500);
    expect(count(synthesize(EVERYTHING_ON))).toBeLessThanOrEqual(500);
  });
});

describe('outputs', () => {
  it('exports the API URL, the table name and the sweeper function name', () => {
    const tableId = resourcesOf(dev.template, 'AWS::DynamoDB::Table')[0]![0];
    const apiId = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Api')[0]![0];
    dev.template.hasOutput('TableName', { Value: { Ref: tableId } });
    dev.template.hasOutput('SweeperFunctionName', { Value: { Ref: sweeperId(dev) } });
    dev.template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }])] } });
  });

  it('names the stack after the stage', () => {
    expect(dev.stack.stackName).toBe('DeviceManager-dev');
    expect(synthesize({ stageName: 'prod' }).stack.stackName).toBe('DeviceManager-prod');
  });
});
