/**
 * The one place that owns Lambda defaults (runtime, architecture, bundling, logging, role) and the
 * least-privilege table grants, so that no function is a copy-pasted NodejsFunction block.
 */
import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TableAccess } from '../../functions/http/routes';
import { TRACING_MODULE } from '../../functions/runtime/tracing';
import { type DeploymentConfig, toRemovalPolicy } from '../config';
import { acknowledgeGuard, GUARD_REASONS } from '../validation';

/** The repository root: entries, the lock file and esbuild's working directory are resolved from it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Item reads. TransactGetItems, if ever used, is authorised through GetItem. */
export const TABLE_READ_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
/** Reads plus item writes. TransactWriteItems is authorised through Put/Update/Delete/ConditionCheckItem. */
export const TABLE_WRITE_ACTIONS: readonly string[] = [
  ...TABLE_READ_ACTIONS,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];
/** The only action that applies to a global secondary index. */
const INDEX_ACTIONS: readonly string[] = ['dynamodb:Query'];

/**
 * What a function does to the table: an access level, or exactly the item actions it calls
 * (a subset of {@link TABLE_WRITE_ACTIONS}) when its calls are known to be narrower than a level.
 */
export type TableGrant = TableAccess | { readonly actions: readonly string[] };

/** The item actions a grant implies; empty for `none`. */
export function tableActionsOf(grant: TableGrant): readonly string[] {
  if (grant === 'none') return [];
  if (grant === 'read') return TABLE_READ_ACTIONS;
  if (grant === 'write') return TABLE_WRITE_ACTIONS;
  // BatchWriteItem only where asked for by name (the job worker): no access level includes it.
  const known = [...TABLE_WRITE_ACTIONS, 'dynamodb:BatchWriteItem'];
  const unknown = grant.actions.filter((action) => !known.includes(action));
  if (grant.actions.length === 0 || unknown.length > 0) {
    throw new Error(
      `table actions must be a non-empty subset of ${TABLE_WRITE_ACTIONS.join(', ')} ` +
        `(got ${JSON.stringify(grant.actions)})`,
    );
  }
  return grant.actions;
}

/**
 * Grants exactly what a table grant implies: its item actions on the table, Query on the table's
 * indexes if it queries at all, and nothing for `none`.
 */
export function grantTableAccess(grantee: IGrantable, table: ITable, grant: TableGrant): void {
  const actions = tableActionsOf(grant);
  if (actions.length === 0) return;
  Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [table.tableArn] });
  if (actions.some((action) => INDEX_ACTIONS.includes(action))) {
    Grant.addToPrincipal({ grantee, actions: [...INDEX_ACTIONS], resourceArns: [`${table.tableArn}/index/*`] });
  }
}

/**
 * The runtime settings of a function that uses the table, under the names functions/runtime/config.ts
 * reads, so that the deployed functions follow the deployment settings rather than their own defaults.
 */
export function tableEnvironment(table: ITable, config: DeploymentConfig): Record<string, string> {
  return {
    TABLE_NAME: table.tableName,
    LIST_SHARDS: String(config.listShards),
    STATS_SHARDS: String(config.statsShards),
    DUE_SHARDS: String(config.dueShards),
    GROUP_MAX_DEPTH: String(config.groupMaxDepth),
    EVENT_RETENTION_DAYS: String(config.eventRetentionDays),
    DEFAULT_PREVENTIVE_DELTA: config.renewalDefaults.preventiveDelta,
    DEFAULT_CRITICAL_DELTA: config.renewalDefaults.criticalDelta,
    ...(config.lamassuEvents ? { LAMASSU_EVENTS: 'true' } : {}),
    // GET /v2/devices/{id} then reads the device's IoT sync state (`iot`).
    ...(config.iotSync.enabled ? { IOT_SYNC_ENABLED: 'true' } : {}),
    // GET /v2/devices/{id} then reads the device's connectivity (presence events).
    ...(config.iotSync.enabled && config.iotSync.presence !== false ? { IOT_PRESENCE: 'true' } : {}),
  };
}

/**
 * Bundles functions/runtime/tracing-xray.ts as `tracing-xray.js` beside the function's `index.js`,
 * with the function's own esbuild options (a NodejsFunction command hook: the same esbuild, locally
 * or in the bundling image).
 */
export function tracingBundleCommands(inputDir: string, outputDir: string): string[] {
  const entry = path.posix.join(inputDir, 'functions', 'runtime', `${TRACING_MODULE}.ts`);
  const outfile = path.posix.join(outputDir, `${TRACING_MODULE}.js`);
  return [
    `npx --no-install esbuild --bundle "${entry}" --platform=node ` +
      `--format=cjs --target=node22 --minify --sourcemap --sources-content=false ` +
      `'--external:@aws-sdk/*' --log-level=warning "--outfile=${outfile}"`,
  ];
}

export interface ServiceFunctionProps {
  /**
   * Handler file under functions/handlers, without `.ts` (e.g. `http/get-device`; an edge with its own folder:
   * `../lamassu/handlers/health`); it exports `handler`.
   */
  readonly entry: string;
  readonly description: string;
  readonly config: DeploymentConfig;
  /** The device table, and what the function does to it. */
  readonly table: ITable;
  readonly tableAccess: TableGrant;
  /** @default 10 seconds (API functions) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Added to the defaults (NODE_OPTIONS with `sourceMaps`, and {@link tableEnvironment} with table access). */
  readonly environment?: Record<string, string>;
}

/**
 * The one log group of every function of the stack. Lambda names each function's log streams
 * `<date>/<function name>[<version>]<instance>` in a shared group, so each function's logs stay apart;
 * a group per function would cost 60 of CloudFormation's 500 resources per stack.
 */
function functionLogGroup(scope: Construct, config: DeploymentConfig): LogGroup {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild('FunctionLogs');
  if (existing) return existing as LogGroup;
  const group = new LogGroup(stack, 'FunctionLogs', {
    retention: config.logRetentionDays as RetentionDays,
    removalPolicy: toRemovalPolicy(config.removalPolicy),
  });
  acknowledgeGuard(group, GUARD_REASONS);
  return group;
}

/**
 * A Node.js 22 ARM64 function bundled by esbuild, with its own role, logging to the stack's function
 * log group. The role gets only: writing to that log group, and the table access asked for.
 */
export class ServiceFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly grantPrincipal: Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const { config } = props;

    this.logGroup = functionLogGroup(this, config);

    // An explicit role instead of the default one, which would carry the AWSLambdaBasicExecutionRole
    // managed policy (logs:* on every log group of the account).
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.description}`,
    });
    this.grantPrincipal = this.role;
    this.logGroup.grantWrite(this.role);
    grantTableAccess(this.role, props.table, props.tableAccess);
    const usesTable = tableActionsOf(props.tableAccess).length > 0;

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'functions', 'handlers', `${props.entry}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        // Mapped stack traces cost every cold start a parse of the source map (docs/cold-starts.md).
        ...(config.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        // Every function, table or not: the OpenAPI document names the indexed metadata keys too.
        ...(config.indexedMetadataKeys.length > 0
          ? { INDEXED_METADATA_KEYS: config.indexedMetadataKeys.join(',') }
          : {}),
        // The Tracer records only where this says so (functions/runtime/tracing.ts): off by default.
        ...(config.tracing ? { POWERTOOLS_TRACE_ENABLED: 'true' } : {}),
        ...(usesTable ? tableEnvironment(props.table, config) : {}),
        ...props.environment,
      },
      // Active X-Ray tracing (setting `tracing`): CDK grants xray:PutTraceSegments and
      // xray:PutTelemetryRecords to the role, and the Powertools Tracer in the handler chain records.
      tracing: config.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      bundling: {
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        // Shipped whether or not the runtime applies it (setting `sourceMaps`): a minified trace from
        // the logs can be mapped with it afterwards.
        sourceMap: true,
        // Stack traces need file and line, not the sources: keeps the asset small.
        sourcesContent: false,
        // The AWS SDK v3 comes with the nodejs22.x runtime: bundling it would add ~540 KB (the
        // DynamoDB client alone) to every function and slow every cold start. Everything else
        // (middy, zod, Powertools) is bundled and tree-shaken; `npm run bench:bundles` measures it.
        externalModules: ['@aws-sdk/*'],
        // With tracing, the Powertools Tracer (and the X-Ray SDK, half a bundle) as a second file
        // that functions/runtime/tracing.ts loads only where tracing records.
        ...(config.tracing
          ? {
              commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: tracingBundleCommands },
            }
          : {}),
      },
    });

    if (config.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing: CDK grants xray:PutTraceSegments and xray:PutTelemetryRecords, ' +
          "which AWS X-Ray only allows on '*' (no resource-level permissions); " +
          'no other statement of this role uses a wildcard resource ' +
          '(tested).',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The runtime is pinned to nodejs22.x on purpose (a supported ' +
        'LTS runtime): the bundle targets node22 and the code is tested ' +
        'on Node 22. Moving to a newer runtime is a deliberate, tested ' +
        'change, not an automatic one.',
    });
    acknowledgeGuard(this, GUARD_REASONS);
    if (tableActionsOf(props.tableAccess).includes('dynamodb:Query')) {
      // cdk-nag findings are acknowledged one by one: this one names this table's index ARN exactly.
      const tableLogicalId = Stack.of(this).resolve((props.table.node.defaultChild as CfnTable).logicalId) as string;
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
        reason:
          'dynamodb:Query on `<table ARN>/index/*` covers exactly the ' +
          'global secondary indexes of the device table (functions/adapters/dynamodb/schema.ts), ' +
          'which the list queries and the sweeper use; no action is ' +
          'wildcarded.',
      });
    }
  }
}
