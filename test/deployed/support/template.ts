/**
 * A synthesized stack as the deploy simulation sees it: the template's resources with every
 * intrinsic resolved to the physical names and ARNs CloudFormation would give them in the
 * simulated account and region, and the functions, routes, rules and event sources read from it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  Metadata?: Record<string, any>;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: unknown;
}

export interface SimFunction {
  logicalId: string;
  /** Physical name (AWS_LAMBDA_FUNCTION_NAME). */
  name: string;
  arn: string;
  /** The bundle folder in cdk.out (holds index.js). */
  assetDir: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The environment the template gives it, resolved. */
  environment: Record<string, string>;
  roleLogicalId: string;
  roleArn: string;
  statements: PolicyStatement[];
  tracing: boolean;
}

export interface SimRoute {
  /** e.g. `GET /v2/devices/{id}` */
  routeKey: string;
  method: string;
  path: string;
  function: SimFunction;
  authorizationType: string;
  scopes: string[];
}

export interface SimTarget {
  kind: 'lambda' | 'sqs';
  arn: string;
}

export interface SimRule {
  logicalId: string;
  arn: string;
  busName?: string;
  pattern?: Record<string, unknown>;
  schedule?: string;
  targets: SimTarget[];
}

/** An AWS IoT topic rule with SQS actions: AWS IoT sends what matches to the queues under the rule's role. */
export interface SimTopicRule {
  logicalId: string;
  /** The MQTT topic filter of its SQL (`SELECT * FROM '<filter>'`). */
  topicFilter: string;
  actions: { queueArn: string; roleLogicalId: string; statements: PolicyStatement[] }[];
}

export interface SimEventSource {
  logicalId: string;
  sourceArn: string;
  function: SimFunction;
  batchSize: number;
  filters: Record<string, unknown>[];
  reportBatchItemFailures: boolean;
}

export interface SimQueue {
  logicalId: string;
  name: string;
  arn: string;
  url: string;
  /** Its dead-letter queue's ARN and the receives before a message moves there. */
  redrive?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

export interface SimStack {
  stackName: string;
  account: string;
  region: string;
  resources: Record<string, CfnResource>;
  tableName: string;
  tableArn: string;
  streamArn: string;
  functions: Map<string, SimFunction>;
  routes: SimRoute[];
  rules: SimRule[];
  eventSources: SimEventSource[];
  queues: Map<string, SimQueue>;
  /** Secrets the stack creates (ARN → name). */
  secrets: Map<string, string>;
  /** Buckets the stack creates (their names). */
  buckets: Set<string>;
  busNames: string[];
  topicRules: SimTopicRule[];
  /** Resolves an intrinsic of this template. */
  resolve(value: unknown): unknown;
}

/** The stream label of the simulated table stream. */
const STREAM_LABEL = '2026-01-01T00:00:00.000';

export function loadStack(cdkOut: string, stackName: string, account: string, region: string): SimStack {
  const template = JSON.parse(readFileSync(path.join(cdkOut, `${stackName}.template.json`), 'utf8')) as {
    Resources: Record<string, CfnResource>;
  };
  const assetsFile = path.join(cdkOut, `${stackName}.assets.json`);
  const assets = (existsSync(assetsFile) ? JSON.parse(readFileSync(assetsFile, 'utf8')) : { files: {} }) as {
    files: Record<
      string,
      { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }
    >;
  };
  const assetDirByKey = new Map<string, string>();
  for (const file of Object.values(assets.files)) {
    for (const d of Object.values(file.destinations))
      assetDirByKey.set(d.objectKey, path.join(cdkOut, file.source.path));
  }
  const resources = template.Resources;
  const shortStack = stackName.slice(0, 20);
  const physicalName = (id: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`no resource ${id} in ${stackName}`);
    const p = r.Properties ?? {};
    const explicit =
      p.TableName ?? p.QueueName ?? p.FunctionName ?? p.Name ?? p.ThingTypeName ?? p.LogGroupName ?? p.RoleName;
    if (typeof explicit === 'string') return explicit;
    // CloudFormation's generated names: <stack>-<logical id>-<suffix>.
    return `${shortStack}-${id.slice(0, 40)}-SIM${(hash(id) >>> 0).toString(36).toUpperCase()}`;
  };
  const arnOf = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;

  function ref(id: string): string {
    switch (id) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::NoValue':
        return '';
    }
    const r = resources[id];
    if (!r) throw new Error(`Ref to unknown ${id}`);
    const name = physicalName(id);
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      case 'AWS::SecretsManager::Secret':
        return arnOf('secretsmanager', `secret:${name}-AbCdEf`);
      case 'AWS::Events::EventBus':
        return p(r).Name ?? name;
      case 'AWS::IAM::Role':
        return name;
      case 'AWS::S3::Bucket':
        // S3 bucket names are lower-case (CloudFormation lower-cases the generated ones): as the Arn below.
        return name.toLowerCase();
      default:
        return name;
    }
  }

  function getAtt(id: string, attribute: string): string {
    const r = resources[id];
    if (!r) throw new Error(`GetAtt of unknown ${id}`);
    const name = physicalName(id);
    const key = `${r.Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return arnOf('dynamodb', `table/${name}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return arnOf('dynamodb', `table/${name}/stream/${STREAM_LABEL}`);
      case 'AWS::SQS::Queue.Arn':
        return arnOf('sqs', name);
      case 'AWS::SQS::Queue.QueueName':
        return name;
      case 'AWS::SQS::Queue.QueueUrl':
        return ref(id);
      case 'AWS::Events::EventBus.Arn':
        return arnOf('events', `event-bus/${ref(id)}`);
      case 'AWS::Events::EventBus.Name':
        return ref(id);
      case 'AWS::Events::Rule.Arn':
        return arnOf('events', `rule/${name}`);
      case 'AWS::Lambda::Function.Arn':
        return arnOf('lambda', `function:${name}`);
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${account}:role/${name}`;
      case 'AWS::Logs::LogGroup.Arn':
        return arnOf('logs', `log-group:${name}:*`);
      case 'AWS::IoT::ThingType.Arn':
        return arnOf('iot', `thingtype/${name}`);
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${name.toLowerCase()}.execute-api.${region}.amazonaws.com`;
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${name.toLowerCase()}`;
      case 'AWS::S3::Bucket.RegionalDomainName':
        return `${name.toLowerCase()}.s3.${region}.amazonaws.com`;
      case 'AWS::CloudFront::Distribution.DomainName':
        return `${name.toLowerCase()}.cloudfront.net`;
      case 'AWS::SNS::Topic.TopicArn':
        return arnOf('sns', name);
      default:
        throw new Error(`the simulation cannot resolve Fn::GetAtt ${id}.${attribute} (${r.Type})`);
    }
  }

  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Record<string, unknown>;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = v[k];
      if (k === 'Ref') return ref(arg as string);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg)
          ? (arg as [string, string])
          : (String(arg).split('.') as [string, string]);
        return getAtt(id, attr);
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolve(parts) as unknown[]).join(sep);
      }
      if (k === 'Fn::Sub') {
        const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in vars) return String(resolve(vars[name]));
          return name.includes('.') ? getAtt(name.split('.')[0]!, name.split('.').slice(1).join('.')) : ref(name);
        });
      }
      if (k === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (resolve(list) as unknown[])[Number(index)];
      }
      if (k === 'Fn::Split') {
        const [sep, text] = arg as [string, unknown];
        return String(resolve(text)).split(sep);
      }
      if (k.startsWith('Fn::')) throw new Error(`the simulation cannot resolve ${k}`);
    }
    return Object.fromEntries(Object.entries(v).map(([key, val]) => [key, resolve(val)]));
  }

  const ids = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const tableId = ids('AWS::DynamoDB::Table')[0]![0];

  // Role statements: inline policies and AWS::IAM::Policy resources attached to the role.
  const statementsOf = (roleId: string): PolicyStatement[] => {
    const inline = (resources[roleId]?.Properties?.Policies ?? []).flatMap((pol: any) => pol.PolicyDocument.Statement);
    const attached = ids('AWS::IAM::Policy')
      .filter(([, pol]) => (pol.Properties?.Roles ?? []).some((r: any) => r?.Ref === roleId))
      .flatMap(([, pol]) => pol.Properties!.PolicyDocument.Statement);
    if ((resources[roleId]?.Properties?.ManagedPolicyArns ?? []).length > 0)
      throw new Error(`role ${roleId} has managed policies: the simulation only reads inline and attached ones`);
    return [...inline, ...attached].map((s: any) => ({
      Effect: s.Effect,
      Action: ([] as unknown[]).concat(s.Action).map(String),
      Resource: ([] as unknown[]).concat(resolve(s.Resource)).map(String),
      ...(s.Condition ? { Condition: resolve(s.Condition) } : {}),
    }));
  };

  const functions = new Map<string, SimFunction>();
  for (const [id, r] of ids('AWS::Lambda::Function')) {
    const props = r.Properties!;
    const key = resolve(props.Code?.S3Key);
    // The assets manifest, else the asset metadata the CLI asks for (aws:cdk:enable-asset-metadata).
    const metadataPath = r.Metadata?.['aws:asset:path'] as string | undefined;
    const assetDir =
      (typeof key === 'string' ? assetDirByKey.get(key) : undefined) ??
      (metadataPath ? path.join(cdkOut, metadataPath) : undefined);
    // Only Node.js bundles run here: CDK's own Python handler of the dashboard deployment does not.
    if (!assetDir || !props.Role || !String(props.Runtime ?? '').startsWith('nodejs')) continue;
    const roleId = props.Role['Fn::GetAtt']?.[0] as string;
    functions.set(id, {
      logicalId: id,
      name: physicalName(id),
      arn: getAtt(id, 'Arn'),
      assetDir,
      handler: props.Handler,
      timeoutSeconds: props.Timeout ?? 3,
      memoryMb: props.MemorySize ?? 128,
      environment: Object.fromEntries(
        Object.entries(props.Environment?.Variables ?? {}).map(([k, v]) => [k, String(resolve(v))]),
      ),
      roleLogicalId: roleId,
      roleArn: getAtt(roleId, 'Arn'),
      statements: statementsOf(roleId),
      tracing: props.TracingConfig?.Mode === 'Active',
    });
  }
  const functionByArn = (arn: unknown): SimFunction | undefined =>
    [...functions.values()].find((f) => f.arn === arn || f.name === arn);

  // Routes: route → integration → function.
  const routes: SimRoute[] = [];
  for (const [, r] of ids('AWS::ApiGatewayV2::Route')) {
    const p = r.Properties!;
    const target = resolve(p.Target) as string;
    const integrationId = p.Target['Fn::Join'][1].find((x: any) => x?.Ref)?.Ref as string;
    const integration = resources[integrationId]!.Properties!;
    const fn = functionByArn(resolve(integration.IntegrationUri));
    if (!fn) throw new Error(`route ${p.RouteKey}: integration ${target} is not a simulated function`);
    if (integration.PayloadFormatVersion !== '2.0')
      throw new Error(`route ${p.RouteKey}: payload format ${integration.PayloadFormatVersion}`);
    const [method, routePath] = String(p.RouteKey).split(' ') as [string, string];
    routes.push({
      routeKey: p.RouteKey,
      method,
      path: routePath,
      function: fn,
      authorizationType: p.AuthorizationType ?? 'NONE',
      scopes: p.AuthorizationScopes ?? [],
    });
  }

  const rules: SimRule[] = ids('AWS::Events::Rule').map(([id, r]) => {
    const p = r.Properties!;
    return {
      logicalId: id,
      arn: getAtt(id, 'Arn'),
      busName: p.EventBusName ? String(resolve(p.EventBusName)) : undefined,
      pattern: p.EventPattern ? (resolve(p.EventPattern) as Record<string, unknown>) : undefined,
      schedule: p.ScheduleExpression,
      targets: (p.Targets ?? []).map((t: any) => {
        const arn = String(resolve(t.Arn));
        return { kind: arn.startsWith('arn:aws:sqs:') ? 'sqs' : 'lambda', arn } as SimTarget;
      }),
    };
  });

  const eventSources: SimEventSource[] = ids('AWS::Lambda::EventSourceMapping').map(([id, r]) => {
    const p = r.Properties!;
    const fn = functionByArn(resolve(p.FunctionName));
    if (!fn) throw new Error(`event source ${id}: unknown function`);
    return {
      logicalId: id,
      sourceArn: String(resolve(p.EventSourceArn)),
      function: fn,
      batchSize: p.BatchSize ?? 10,
      filters: (p.FilterCriteria?.Filters ?? []).map((f: { Pattern: string }) => JSON.parse(f.Pattern)),
      reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
    };
  });

  const queues = new Map<string, SimQueue>();
  for (const [id, r] of ids('AWS::SQS::Queue')) {
    const redrive = r.Properties?.RedrivePolicy
      ? (resolve(r.Properties.RedrivePolicy) as SimQueue['redrive'])
      : undefined;
    queues.set(getAtt(id, 'Arn'), {
      logicalId: id,
      name: physicalName(id),
      arn: getAtt(id, 'Arn'),
      url: ref(id),
      redrive,
    });
  }
  const secrets = new Map(ids('AWS::SecretsManager::Secret').map(([id]) => [ref(id), physicalName(id)]));

  return {
    stackName,
    account,
    region,
    resources,
    tableName: ref(tableId),
    tableArn: getAtt(tableId, 'Arn'),
    streamArn: getAtt(tableId, 'StreamArn'),
    functions,
    routes,
    rules,
    eventSources,
    queues,
    secrets,
    buckets: new Set(ids('AWS::S3::Bucket').map(([id]) => ref(id))),
    busNames: ids('AWS::Events::EventBus').map(([id]) => ref(id)),
    topicRules: ids('AWS::IoT::TopicRule').map(([id, r]) => {
      const payload = p(r).TopicRulePayload;
      const filter = /FROM\s+'([^']+)'/i.exec(String(payload.Sql))?.[1] ?? '';
      return {
        logicalId: id,
        topicFilter: filter,
        actions: (payload.Actions ?? [])
          .filter((a: any) => a.Sqs)
          .map((a: any) => {
            const url = String(resolve(a.Sqs.QueueUrl));
            const queue = [...queues.values()].find((q) => q.url === url);
            if (!queue) throw new Error(`topic rule ${id}: no queue at ${url}`);
            const roleId = a.Sqs.RoleArn['Fn::GetAtt']?.[0] as string;
            return { queueArn: queue.arn, roleLogicalId: roleId, statements: statementsOf(roleId) };
          }),
      };
    }),
    resolve,
  };
}

function p(r: CfnResource): Record<string, any> {
  return r.Properties ?? {};
}

/** A stable small hash (FNV-1a) for generated physical names. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
