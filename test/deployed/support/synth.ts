/**
 * Synthesizes a profile the way `cdk deploy` does: bin/app.ts run as the CDK CLI runs it (CDK_OUTDIR,
 * CDK_CONTEXT_JSON with cdk.json's context and the CLI's defaults, a concrete CDK_DEFAULT_ACCOUNT and
 * CDK_DEFAULT_REGION), with asset bundling and the validation plugins of the app: any finding fails.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type Profile, SIM_ACCOUNT, SIM_REGION } from './profiles';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface SynthResult {
  profile: Profile['name'];
  outdir: string;
  ok: boolean;
  stackName?: string;
  /** Why synth failed (the validation report or the error), when it did. */
  error?: string;
  ms: number;
}

export async function synthProfile(profile: Profile, outdir: string): Promise<SynthResult> {
  const started = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const context = {
    ...cdkJson.context,
    // What the CLI adds by default.
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:version-reporting': true,
    'aws:cdk:bundling-stacks': ['**'],
    deviceManager: { ...(cdkJson.context.deviceManager as object), ...profile.settings },
  };
  const env = {
    ...process.env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_DEFAULT_ACCOUNT: SIM_ACCOUNT,
    CDK_DEFAULT_REGION: SIM_REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO_ROOT, 'bin', 'app.ts')],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr.on('data', (c: Buffer) => output.push(c.toString()));
    child.on('close', resolve);
  });
  const ms = Date.now() - started;
  const log = output
    .join('')
    .split('\n')
    .filter((l) => !/^\s*(\.\.\.|⚡|Bundling asset)/.test(l) && l.trim() !== '' && l.length < 1000)
    .join('\n');
  if (code !== 0)
    return { profile: profile.name, outdir, ok: false, error: `synth exited with ${code}:\n${log.slice(-6000)}`, ms };
  const template = readdirSync(outdir).find((f) => f.endsWith('.template.json'));
  if (!template) return { profile: profile.name, outdir, ok: false, error: 'no template in cdk.out', ms };
  return { profile: profile.name, outdir, ok: true, stackName: template.replace(/\.template\.json$/, ''), ms };
}
