/** Builds the stack the way bin/app.ts does, minus asset bundling and CloudFormation validation (fast). */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { CONTEXT_KEY, type DeploymentConfig, parseConfig } from '../../lib/config';
import { DeviceManagerStack, stackName } from '../../lib/device-manager-stack';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The feature flags of cdk.json, so the tests synthesize what `cdk synth` does. */
function featureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const { [CONTEXT_KEY]: _settings, ...flags } = cdkJson.context ?? {};
  return flags;
}

export interface Synthesized {
  app: App;
  stack: DeviceManagerStack;
  config: DeploymentConfig;
  template: Template;
}

/**
 * An App as `cdk synth` makes it (cdk.json's feature flags), without bundling or CloudFormation validation,
 * and without what only the cloud assembly's side files carry, never the template: a stack trace per
 * construct and per metadata entry (captured through jest's source maps, about a sixth of the CDK tests'
 * CPU time) and tree.json.
 */
export function testApp(): App {
  return new App({
    context: { ...featureFlags(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-creation-stack-traces': true },
    stackTraces: false,
    treeMetadata: false,
    builtinCloudFormationValidation: false,
  });
}

/**
 * One synthesis per settings profile and environment (the parsed settings, so `{}` and
 * `{stageName: 'dev'}` share one) for the whole run: a synthesis of the stack takes seconds. Within a test
 * file the result is kept in memory; across the run's files (jest workers are separate processes) the
 * template is kept on disk, in the folder test/cdk/global-setup.ts makes for the run, so a file that
 * reads only `template` never synthesizes a profile another file already did. `stack` and `app` build the
 * construct tree on first use. Treat the result as read-only; a test that adds constructs takes a
 * `freshSynthesize`. `env` gives the stack a concrete account and region, as `cdk deploy` does
 * (bin/app.ts passes CDK_DEFAULT_ACCOUNT/REGION on).
 */
const synthesized = new Map<string, Synthesized>();

type Env = { account: string; region: string };

/** Synthesizes a stack from raw `deviceManager` settings (cached per profile; invalid settings throw). */
export function synthesize(rawConfig?: unknown, { env }: { env?: Env } = {}): Synthesized {
  const config = parseConfig(rawConfig);
  const key = JSON.stringify([config, env ?? null]);
  let result = synthesized.get(key);
  if (!result) {
    result = shared(key, config, env);
    synthesized.set(key, result);
  }
  return result;
}

/** A synthesis of its own, for a test that changes the construct tree. */
export function freshSynthesize(rawConfig?: unknown, { env }: { env?: Env } = {}): Synthesized {
  return build(parseConfig(rawConfig), env);
}

function build(config: DeploymentConfig, env?: Env): Synthesized {
  const app = testApp();
  const stack = new DeviceManagerStack(app, stackName(config), { config, ...(env ? { env } : {}) });
  return { app, stack, config, template: Template.fromStack(stack) };
}

/** The run's template folder (test/cdk/global-setup.ts), or none when a file runs outside the CDK project. */
const TEMPLATE_CACHE = process.env.CDK_TEMPLATE_CACHE;

/** A synthesis whose parts are made on first use: the template from the run's folder when there. */
function shared(key: string, config: DeploymentConfig, env?: Env): Synthesized {
  const file = TEMPLATE_CACHE
    ? path.join(TEMPLATE_CACHE, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`)
    : undefined;
  let tree: { app: App; stack: DeviceManagerStack } | undefined;
  let template: Template | undefined;
  const constructs = () => {
    if (!tree) {
      const app = testApp();
      tree = { app, stack: new DeviceManagerStack(app, stackName(config), { config, ...(env ? { env } : {}) }) };
    }
    return tree;
  };
  return {
    config,
    get app() {
      return constructs().app;
    },
    get stack() {
      return constructs().stack;
    },
    get template() {
      if (template) return template;
      if (file && !tree && existsSync(file)) {
        template = Template.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
        return template;
      }
      template = Template.fromStack(constructs().stack);
      if (file) {
        // Written whole, then renamed: a worker reading the folder never sees half a template.
        const partial = `${file}.${process.pid}.tmp`;
        writeFileSync(partial, JSON.stringify(template.toJSON()));
        renameSync(partial, file);
      }
      return template;
    },
  };
}

/** Runs the AWS Solutions pack over a construct tree; returns the unacknowledged findings. */
export function nagFindings(scope: IConstruct): { rule: string; severity: string; paths: string[] }[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity ?? '',
    paths: v.violatingResources.map((r) => r.constructPath ?? ''),
  }));
}

/** Every cdk-nag acknowledgement (rule id → reason) recorded with Validations.of(...).acknowledge in a tree. */
export function acknowledgements(scope: IConstruct): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // cfn-guard's own acknowledgements (test/cdk/cfn-guard.test.ts) are not cdk-nag's.
        if (id.startsWith('cdk-validator-cfnguard::')) continue;
        const rule = id.replace(/^annotation::/i, '');
        found.set(rule, (found.get(rule) ?? new Set()).add(String(reason)));
      }
    }
  }
  return found;
}

type Resource = {
  Type: string;
  Properties?: Record<string, any>;
  Metadata?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

export function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.findResources(type) as Record<string, Resource>);
}

/** Logical id of a `{ Ref }` or `{ Fn::GetAtt: [id, attr] }`. */
export function refOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0];
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The statement CDK adds to a function's role for active tracing (X-Ray allows no narrower resource). */
export const XRAY_STATEMENT: Statement = {
  Effect: 'Allow',
  Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  Resource: '*',
};
export const isXray = (s: Statement) =>
  s.Effect === 'Allow' &&
  s.Resource === '*' &&
  JSON.stringify([...asArray(s.Action)].sort()) === JSON.stringify(XRAY_STATEMENT.Action);

/**
 * All policy statements that apply to a role: inline policies and AWS::IAM::Policy resources attached
 * to it; the X-Ray statement of active tracing is left out (test/cdk/operations.test.ts checks it).
 */
export function statementsOfRole(template: Template, roleId: string, { xray = false } = {}): Statement[] {
  const role = template.toJSON().Resources[roleId] as Resource;
  const inline = (role.Properties?.Policies ?? []).flatMap(
    (p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement,
  );
  const attached = resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties?.Roles ?? []).some((r: unknown) => refOf(r) === roleId))
    .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as Statement[]);
  return [...inline, ...attached].filter((s) => xray || !isXray(s));
}

/** The environment every table-using function gets with the default settings. */
export function defaultTableEnvironment(tableId: string): Record<string, unknown> {
  return {
    TABLE_NAME: { Ref: tableId },
    LIST_SHARDS: '4',
    STATS_SHARDS: '4',
    DUE_SHARDS: '4',
    GROUP_MAX_DEPTH: '10',
    EVENT_RETENTION_DAYS: '400',
    DEFAULT_PREVENTIVE_DELTA: '60d',
    DEFAULT_CRITICAL_DELTA: '14d',
  };
}
