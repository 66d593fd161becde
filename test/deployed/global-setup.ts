/**
 * `npm run test:deployed`: synthesizes each profile once per run (with bundling, concrete account
 * and region) into a temporary cdk.out and shares it with the test files through a manifest.
 * DEPLOYED_SIM_OUT=<folder> keeps the synthesized output there and reuses it on the next run;
 * DEPLOYED_SIM_PROFILES=<name,...> synthesizes only those profiles.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { profiles } from './support/profiles';
import { synthProfile, type SynthResult } from './support/synth';

export interface Manifest {
  caPort: number;
  results: SynthResult[];
}

export const MANIFEST_ENV = 'DEPLOYED_SIM_MANIFEST';

/** A free loopback port for the fake CA, known before synthesis (caApiUrl is a setting). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const keep = process.env.DEPLOYED_SIM_OUT;
  const root = keep ? path.resolve(keep) : mkdtempSync(path.join(tmpdir(), 'deploy-sim-'));
  mkdirSync(root, { recursive: true });
  const manifestFile = path.join(root, 'manifest.json');
  if (keep && existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    if (manifest.results.every((r) => r.ok || r.error)) {
      process.env[MANIFEST_ENV] = manifestFile;
      return;
    }
  }
  const caPort = await freePort();
  const results: SynthResult[] = [];
  // DEPLOYED_SIM_PROFILES=<name,...>: only those (one test file's profile, on a busy machine).
  const only = process.env.DEPLOYED_SIM_PROFILES?.split(',').filter(Boolean);
  // One at a time: each synth runs esbuild for every function and the machine may be small.
  for (const profile of profiles(caPort).filter((p) => !only?.length || only.includes(p.name))) {
    const result = await synthProfile(profile, path.join(root, profile.name));
    console.log(
      `\ndeploy simulation: synthesized ${profile.name} in ${(result.ms / 1000).toFixed(1)} ` +
        `s${result.ok ? '' : ' (FAILED)'}`,
    );
    results.push(result);
  }
  writeFileSync(manifestFile, JSON.stringify({ caPort, results } satisfies Manifest, null, 2));
  process.env[MANIFEST_ENV] = manifestFile;
}
