/**
 * The real thing: `cdk synth` through cdk.json and bin/app.ts, with esbuild bundling every function
 * and cdk-nag as a validation plugin (any unacknowledged finding fails the synth). Offline.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HTTP_ROUTES } from '../../functions/http/routes';
import { REPO_ROOT } from './helpers';

const run = promisify(execFile);

const ENV = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  CDK_DISABLE_VERSION_CHECK: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, any> }>;
};

/** Bundling and loading time grow with the number of functions (one per route, plus three). */
const FUNCTIONS_BUDGET_MS = 60_000 + 8_000 * (HTTP_ROUTES.length + 3);

describe('cdk synth', () => {
  let outdir: string;
  let template: Template;

  beforeAll(async () => {
    outdir = mkdtempSync(path.join(tmpdir(), 'device-manager-synth-'));
    await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outdir], {
      cwd: REPO_ROOT,
      env: ENV,
      maxBuffer: 64 * 1024 * 1024,
    });
    template = JSON.parse(readFileSync(path.join(outdir, 'DeviceManager-dev.template.json'), 'utf8')) as Template;
  }, FUNCTIONS_BUDGET_MS);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it(
    'bundles every function into an index.js (AWS SDK external) that exports handler',
    async () => {
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      // One per route, plus the sweep dispatcher and its task worker, the outbox publisher, the counter
      // applier and the certificate intake.
      expect(functions).toHaveLength(HTTP_ROUTES.length + 5);
      for (const fn of functions) {
        const asset = path.join(outdir, fn.Metadata!['aws:asset:path']);
        const bundle = path.join(asset, 'index.js');
        expect(existsSync(bundle)).toBe(true);
        expect(statSync(bundle).size).toBeGreaterThan(1000);
        expect(existsSync(`${bundle}.map`)).toBe(true);
        // Small: the SDK is left to the runtime, everything else tree-shaken.
        expect(statSync(bundle).size).toBeLessThanOrEqual(400 * 1024);
        // Loaded from the temp directory with only the AWS SDK in reach, as the nodejs22.x runtime
        // provides it: the bundle must carry every other dependency.
        const sdkOnly = mkdtempSync(path.join(tmpdir(), 'sdk-only-'));
        symlinkSync(path.join(REPO_ROOT, 'node_modules', '@aws-sdk'), path.join(sdkOnly, '@aws-sdk'));
        const { stdout } = await run(
          process.execPath,
          ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`],
          { cwd: asset, env: { ...ENV, NODE_PATH: sdkOnly } },
        );
        expect(stdout).toBe('function');
        rmSync(sdkOnly, { recursive: true, force: true });
      }
    },
    FUNCTIONS_BUDGET_MS,
  );

  it("bundles the sweeper from functions/handlers/scheduled/sweep.ts into the schedule's target", () => {
    const rules = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression !== undefined,
    );
    expect(rules).toHaveLength(1);
    const sweeper = template.Resources[rules[0]!.Properties.Targets[0].Arn['Fn::GetAtt'][0] as string]!;
    expect(sweeper.Type).toBe('AWS::Lambda::Function');
    // A string only that handler logs: the bundle is built from the right entry.
    expect(readFileSync(path.join(outdir, sweeper.Metadata!['aws:asset:path'], 'index.js'), 'utf8')).toContain(
      'sweep dispatched',
    );
  });

  it('ran cdk-nag from bin/app.ts and recorded its acknowledgements in the template', () => {
    const acknowledged = Object.values(template.Resources)
      .flatMap((r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as { id: string }[])
      .map((s) => s.id);
    expect(acknowledged).toContain('AwsSolutions-L1');
  });
});
