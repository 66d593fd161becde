/**
 * `cdk synth` builds the dashboard it deploys: the asset is bundled from web/ at synthesis (esbuild,
 * in process), so a fresh clone without web/dist synthesizes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { parseConfig } from '../../lib/config';
import { Dashboard } from '../../lib/constructs/dashboard';
import { DASHBOARD_FILES } from '../../web/build';
import { DASHBOARD_SOURCE } from '../../web/paths';

it('builds the dashboard into the staged asset at synthesis, from the sources, not from web/dist', () => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'dashboard-synth-'));
  // Bundling on (no aws:cdk:bundling-stacks override), as `cdk synth` runs it; only the dashboard in the stack.
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'DashboardOnly');
  const config = parseConfig({ auth: { type: 'none', iUnderstandThisIsInsecure: true }, dashboard: { enabled: true } });
  new Dashboard(stack, 'Dashboard', { config, api: new HttpApi(stack, 'Api') });
  const assembly = app.synth();

  const manifest = JSON.parse(readFileSync(path.join(assembly.directory, 'DashboardOnly.assets.json'), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const staged = Object.values(manifest.files)
    .map((f) => path.join(assembly.directory, f.source.path))
    .filter((dir) => existsSync(path.join(dir, 'index.html')));
  expect(staged).toHaveLength(1);
  expect(readdirSync(staged[0]!).sort()).toEqual([...DASHBOARD_FILES].sort());
  // The built module, not a copy of a source file.
  expect(readFileSync(path.join(staged[0]!, 'app.js'), 'utf8')).not.toMatch(/from ['"]preact['"]/);
  // The asset is fingerprinted from web/ (sources), so it does not depend on a prior `npm run build:web`.
  const metadata = JSON.stringify(stack.node.findAll().flatMap((c) => c.node.metadata.map((m) => m.data)));
  expect(metadata).not.toContain(path.join(path.dirname(DASHBOARD_SOURCE), 'dist'));
});
