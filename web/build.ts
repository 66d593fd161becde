/**
 * Builds the web dashboard (web/src, TypeScript + preact JSX) with esbuild into web/dist: one minified
 * ES module, the page and the style sheet. `npm start` and `npm test` run it first (prestart/pretest);
 * `cdk synth` builds it as the bundling of the stack's dashboard asset (lib/constructs/dashboard.ts),
 * so a fresh clone synthesizes without a prior build.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, buildSync } from 'esbuild';
import { DASHBOARD_DIST, DASHBOARD_SOURCE } from './paths';
/** Files of the built dashboard; the budget below covers all of them. */
export const DASHBOARD_FILES = ['index.html', 'app.js', 'styles.css'] as const;
/** The bundle budget: everything a first visit downloads, gzipped. */
export const DASHBOARD_GZIP_BUDGET = 250 * 1024;

function options(outdir: string): BuildOptions {
  return {
    entryPoints: [path.join(DASHBOARD_SOURCE, 'main.tsx')],
    outfile: path.join(outdir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  };
}

const copyStatic = (outdir: string) => {
  for (const file of ['index.html', 'styles.css'])
    copyFileSync(path.join(__dirname, 'static', file), path.join(outdir, file));
};

export async function buildDashboard(outdir: string = DASHBOARD_DIST): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  await build(options(outdir));
  copyStatic(outdir);
}

/** The same build, synchronous: CDK's local bundling (tryBundle) cannot wait for a promise. */
export function buildDashboardSync(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  buildSync(options(outdir));
  copyStatic(outdir);
}

/** Gzipped size in bytes of each built file. */
export function gzippedSizes(outdir: string = DASHBOARD_DIST): Record<string, number> {
  return Object.fromEntries(
    DASHBOARD_FILES.map((f) => [f, gzipSync(readFileSync(path.join(outdir, f)), { level: 9 }).length]),
  );
}

if (require.main === module) {
  buildDashboard().then(
    () => {
      const sizes = gzippedSizes();
      const total = Object.values(sizes).reduce((a, b) => a + b, 0);
      console.log(
        `dashboard built in ${path.relative(process.cwd(), DASHBOARD_DIST)} (${(total / 1024).toFixed(1)} KB gzipped)`,
      );
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
