/**
 * cfn-guard (lib/validation.ts) is a validation plugin of bin/app.ts beside cdk-nag: every profile's
 * synthesis (the other files of this tier) passes it with each acknowledgement reasoned; this file shows
 * that the same plugin fails a synth that has a real finding, so a passing profile means something.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

describe('cfn-guard', () => {
  it('fails the synth of a stack with a queue that has no dead-letter queue, naming the rule and the construct', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'careless-'));
    const run = spawnSync(
      process.execPath,
      [
        path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        path.join(__dirname, 'fixtures', 'careless-app.ts'),
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CDK_OUTDIR: outdir },
        encoding: 'utf8',
      },
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/ValidationFailed[\s\S]*sqs_dlq_check/);
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        conclusion: string;
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    const guard = report.pluginReports.find((p) => p.pluginName === 'cdk-validator-cfnguard');
    expect(guard?.conclusion).toBe('failure');
    const dlq = guard?.violations.find((v) => v.ruleName === 'sqs_dlq_check');
    expect(dlq?.violatingConstructs.map((c) => c.constructPath)).toEqual(['Careless/NoDeadLetterQueue/Resource']);
  });
});
