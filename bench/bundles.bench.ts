/**
 * `npm run bench:bundles`: every Lambda bundle built as the stack builds it (esbuild, CJS, node22,
 * minified, linked source maps, `@aws-sdk/*` left to the runtime), its size, and its module initialisation time
 * measured here (median of fresh `node` processes requiring it, with `--enable-source-maps` only if
 * BENCH_SOURCE_MAPS=on, as the stack's `sourceMaps` setting does), beside a bundle that only creates a
 * DynamoDB document client. Targets: every bundle ≤ 250 KB; init ≤ 1.3× baseline.
 * Below the table: the Powertools Tracer side file (tracing-xray.js, loaded only where tracing records)
 * and one function with it loaded; the IoT sync with the AWS IoT SDK it loads on its first invocation;
 * and the largest bundle with source maps applied (the `sourceMaps` setting on).
 */
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { tracingBundleCommands } from '../lib/constructs/service-function';
import { fmt, percentile, printTable } from './support';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const MAX_KB = 250;
const MAX_INIT_RATIO = 1.3;
/** The stack's default (`sourceMaps: false`) unless BENCH_SOURCE_MAPS=on. */
const SOURCE_MAPS = process.env.BENCH_SOURCE_MAPS === 'on';

/** Every Lambda entry point: functions/handlers/** and the Lamassu edge's functions/lamassu/handlers/. */
function handlerEntries(): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(path.join(d, e.name))
        : e.name.endsWith('.ts') && e.name !== 'routes.ts'
          ? [path.join(d, e.name)]
          : [],
    );
  return [path.join(ROOT, 'functions', 'handlers'), path.join(ROOT, 'functions', 'lamassu', 'handlers')]
    .flatMap(walk)
    .sort();
}

function bundle(entry: string, outdir: string): string {
  const outfile = path.join(outdir, 'index.js');
  // The options of lib/constructs/service-function.ts (NodejsFunction bundling).
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    external: ['@aws-sdk/*'],
    logLevel: 'error',
    absWorkingDir: ROOT,
  });
  return outfile;
}

interface Sampling {
  env?: Record<string, string>;
  sourceMaps?: boolean;
  /** Modules required after the bundle, in the same timing (what a first invocation loads). */
  then?: string[];
}

/** Milliseconds to require the bundle in a fresh process, as a Lambda cold start does. */
function initSample(file: string, { env: extraEnv = {}, sourceMaps = SOURCE_MAPS, then = [] }: Sampling = {}): number {
  const script =
    `const t=process.hrtime.bigint();require(${JSON.stringify(file)});` +
    then.map((m) => `require(${JSON.stringify(m)});`).join('') +
    `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const env = {
    ...process.env,
    ...extraEnv,
    TABLE_NAME: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  return Number(execFileSync(process.execPath, [...flags, '-e', script], { env, encoding: 'utf8', cwd: ROOT }));
}

const median = (samples: number[]) =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );

/**
 * Median init of the bundle and of the baseline, sampled in alternation: the ratio compares runs
 * made under the same machine load (a shared machine's load drifts over a whole table).
 */
function pairedInit(
  file: string,
  baselineFile: string,
  baselines: number[],
  sampling: Sampling = {},
): { ms: number; ratio: number } {
  const own: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // The baseline with the same source-map flag: the ratio is the cost of the function's own code.
    base.push(initSample(baselineFile, { sourceMaps: sampling.sourceMaps }));
    own.push(initSample(file, sampling));
  }
  baselines.push(...base);
  return { ms: median(own), ratio: median(own) / median(base) };
}

function main() {
  // Inside the repository, so the bundles resolve `@aws-sdk/*` from node_modules as Lambda resolves
  // them from the runtime's SDK.
  mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  const work = mkdtempSync(path.join(ROOT, '.bench', 'bundles-'));
  try {
    const baselineEntry = path.join(ROOT, 'bench', 'fixtures', 'bare-client.ts');
    const baselineFile = bundle(baselineEntry, path.join(work, 'baseline'));
    const baselines: number[] = [];
    const rows: (string | number)[][] = [];
    let worstKb = 0;
    let worstRatio = 0;
    let largest = '';
    for (const entry of handlerEntries()) {
      const name = path.relative(path.join(ROOT, 'functions'), entry).replace(/\.ts$/, '');
      const file = bundle(entry, path.join(work, name));
      const kb = statSync(file).size / 1024;
      const { ms, ratio } = pairedInit(file, baselineFile, baselines);
      if (kb > worstKb) largest = file;
      worstKb = Math.max(worstKb, kb);
      worstRatio = Math.max(worstRatio, ratio);
      rows.push([name, kb, ms, `${fmt(ratio)}×`, kb <= MAX_KB && ratio <= MAX_INIT_RATIO ? 'ok' : 'OVER']);
    }
    // With tracing on (as in Lambda with the `tracing` setting): the side file is loaded too.
    const traced = path.join(work, 'handlers', 'http', 'get-device', 'index.js');
    for (const command of tracingBundleCommands(ROOT, path.dirname(traced)))
      execSync(command, { cwd: ROOT, stdio: 'pipe' });
    const tracerKb = statSync(path.join(path.dirname(traced), 'tracing-xray.js')).size / 1024;
    const tracedInit = pairedInit(traced, baselineFile, [], { env: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' } });
    const iotSync = path.join(work, 'handlers', 'events', 'iot-sync', 'index.js');
    const iotFirst = pairedInit(iotSync, baselineFile, [], { then: ['@aws-sdk/client-iot'] });
    const mapped = pairedInit(largest, baselineFile, [], { sourceMaps: true });
    rows.unshift([
      '(bare DynamoDB document client)',
      statSync(baselineFile).size / 1024,
      median(baselines),
      '1.00×',
      '',
    ]);
    printTable(
      `Lambda bundles: size and module init (median of ${RUNS} cold ` +
        `processes each, alternating with the baseline, ${SOURCE_MAPS ? 'with' : 'without'} --enable-source-maps)`,
      ['function', 'KB', 'init ms', 'init ratio', `≤${MAX_KB} KB, ≤${MAX_INIT_RATIO}×`],
      rows,
    );
    console.log(
      `\ntracing side file tracing-xray.js ${fmt(tracerKb)} KB, ` +
        `loaded only where tracing records; handlers/http/get-device with tracing ` +
        `on: init ${fmt(tracedInit.ms)} ms, ${fmt(tracedInit.ratio)}×`,
    );
    console.log(
      `handlers/events/iot-sync with the AWS IoT SDK its first invocation loads: ` +
        `${fmt(iotFirst.ms)} ms, ${fmt(iotFirst.ratio)}×`,
    );
    console.log(
      `${path.relative(work, path.dirname(largest))} (the largest bundle) with --enable-source-maps ` +
        `(setting sourceMaps), against the baseline with it too: ${fmt(mapped.ms)} ms, ${fmt(mapped.ratio)}×`,
    );
    console.log(
      `largest bundle ${fmt(worstKb)} KB (target ≤ ${MAX_KB}); worst ` +
        `init ratio ${fmt(worstRatio)}× (target ≤ ${MAX_INIT_RATIO}×)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
