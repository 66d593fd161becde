/**
 * `npm run bench:bundles`: every Lambda bundle built as the stack builds it (esbuild, CJS, node22,
 * minified, linked source maps, `@aws-sdk/*` left to the runtime), its size, and its module initialisation
 * measured in fresh `node` processes requiring it (with `--enable-source-maps` only if BENCH_SOURCE_MAPS=on, as
 * the stack's `sourceMaps` setting does), beside a bundle that only creates a DynamoDB document client.
 * Targets: every bundle ≤ 250 KB; init ≤ 1.3× the baseline.
 *
 * A shared machine's load moves wall-clock times by several times, so each function is sampled in
 * alternation with the baseline (ABBA order), medians of BENCH_RUNS samples each, and two figures are kept:
 * wall-clock, and the CPU time of the process during the require (every thread, user and system), which
 * is the time a Lambda environment spends, with its own share of a vCPU, and which other jobs on this
 * machine barely move. The verdict is on CPU time; wall-clock stands beside it with its own baseline.
 * BENCH_INSTRUCTIONS=on adds instructions counted by valgrind's cachegrind (an empty process subtracted),
 * a figure the load does not move (slow: about 10 s of CPU per bundle); BENCH_ONLY=<regex> picks functions.
 * Below the table: the Powertools Tracer side file (tracing-xray.js, loaded only where tracing records)
 * and one function with it loaded; the IoT sync with the AWS IoT SDK it loads on its first invocation, the
 * sweeper with the SQS SDK its first send loads;
 * and the largest bundle with source maps applied (the `sourceMaps` setting on).
 */
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { tracingBundleCommands } from '../lib/constructs/service-function';
import { fmt, percentile, printTable } from './support';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const MAX_KB = 250;
const MAX_INIT_RATIO = 1.3;
/** The stack's default (`sourceMaps: false`) unless BENCH_SOURCE_MAPS=on. */
const SOURCE_MAPS = process.env.BENCH_SOURCE_MAPS === 'on';
const INSTRUCTIONS = process.env.BENCH_INSTRUCTIONS === 'on';
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;

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

/** One cold require: wall-clock and CPU time of the process (all threads), in milliseconds. */
interface Sample {
  wall: number;
  cpu: number;
}

function requireScript(file: string | undefined, then: string[]): string {
  return [...(file ? [file] : []), ...then].map((m) => `require(${JSON.stringify(m)});`).join('');
}

function processEnv(extraEnv: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...extraEnv,
    TABLE_NAME: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

/** Requires the bundle in a fresh process, as a Lambda cold start does. */
function initSample(file: string, { env = {}, sourceMaps = SOURCE_MAPS, then = [] }: Sampling = {}): Sample {
  const script =
    'const c=process.cpuUsage(),t=process.hrtime.bigint();' +
    requireScript(file, then) +
    'const u=process.cpuUsage(c);' +
    'process.stdout.write(`${Number(process.hrtime.bigint()-t)/1e6} ${(u.user+u.system)/1e3}`)';
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  const out = execFileSync(process.execPath, [...flags, '-e', script], {
    env: processEnv(env),
    encoding: 'utf8',
    cwd: ROOT,
  });
  const [wall, cpu] = out.split(' ').map(Number);
  return { wall: wall!, cpu: cpu! };
}

/** Instructions (valgrind cachegrind, all threads) of a process that requires the bundle, or of an empty one. */
function instructions(file: string | undefined, { env = {}, sourceMaps = SOURCE_MAPS, then = [] }: Sampling = {}) {
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  const run = spawnSync(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      process.execPath,
      ...flags,
      '-e',
      requireScript(file, then) || '0',
    ],
    { env: processEnv(env), encoding: 'utf8', cwd: ROOT },
  );
  const refs = /I\s+refs:\s+([\d,]+)/.exec(run.stderr ?? '');
  if (!refs) throw new Error(`BENCH_INSTRUCTIONS=on needs valgrind: ${run.error?.message ?? run.stderr}`);
  return Number(refs[1]!.replaceAll(',', ''));
}

const median = (samples: number[]) =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );

interface Paired {
  own: Sample;
  base: Sample;
  wallRatio: number;
  cpuRatio: number;
  /** Instructions as a ratio to the baseline's, an empty process subtracted from both (BENCH_INSTRUCTIONS=on). */
  instructionRatio?: number;
}

/**
 * Medians of the bundle and of the baseline, sampled in alternation (ABBA): each ratio compares runs
 * made under the same machine load (a shared machine's load drifts over a whole table).
 */
function pairedInit(file: string, baselineFile: string, sampling: Sampling = {}): Paired {
  const own: Sample[] = [];
  const base: Sample[] = [];
  // The baseline with the same source-map flag: the ratio is the cost of the function's own code.
  const baseline = () => base.push(initSample(baselineFile, { sourceMaps: sampling.sourceMaps }));
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) baseline();
    own.push(initSample(file, sampling));
    if (i % 2 === 1) baseline();
  }
  const medians = (samples: Sample[]) => ({
    wall: median(samples.map((s) => s.wall)),
    cpu: median(samples.map((s) => s.cpu)),
  });
  const [o, b] = [medians(own), medians(base)];
  return { own: o, base: b, wallRatio: o.wall / b.wall, cpuRatio: o.cpu / b.cpu, ...counted(file, sampling) };
}

let instructionBase: { empty: number; byMaps: Map<boolean, number> } | undefined;
let baselineForInstructions = '';

function counted(file: string, sampling: Sampling): { instructionRatio?: number } {
  if (!INSTRUCTIONS) return {};
  const maps = sampling.sourceMaps ?? SOURCE_MAPS;
  instructionBase ??= { empty: instructions(undefined, { sourceMaps: false }), byMaps: new Map() };
  const { empty, byMaps } = instructionBase;
  if (!byMaps.has(maps)) byMaps.set(maps, instructions(baselineForInstructions, { sourceMaps: maps }) - empty);
  return { instructionRatio: (instructions(file, sampling) - empty) / byMaps.get(maps)! };
}

const ratio = (r: number | undefined) => (r === undefined ? '' : `${fmt(r)}×`);

/** Both figures of a function outside the table, in one line. */
function line(p: Paired): string {
  return (
    `CPU ${fmt(p.own.cpu)} ms, ${fmt(p.cpuRatio)}× (bare ${fmt(p.base.cpu)} ms); ` +
    `wall ${fmt(p.own.wall)} ms, ${fmt(p.wallRatio)}× (bare ${fmt(p.base.wall)} ms)` +
    (p.instructionRatio === undefined ? '' : `; instructions ${fmt(p.instructionRatio)}×`)
  );
}

function main() {
  // Inside the repository, so the bundles resolve `@aws-sdk/*` from node_modules as Lambda resolves
  // them from the runtime's SDK.
  mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  const work = mkdtempSync(path.join(ROOT, '.bench', 'bundles-'));
  try {
    const baselineEntry = path.join(ROOT, 'bench', 'fixtures', 'bare-client.ts');
    const baselineFile = bundle(baselineEntry, path.join(work, 'baseline'));
    baselineForInstructions = baselineFile;
    const rows: (string | number)[][] = [];
    const cpuRatios: number[] = [];
    const wallRatios: number[] = [];
    let worstKb = 0;
    let largest = '';
    let over = 0;
    const bundled = new Map<string, string>();
    for (const entry of handlerEntries()) {
      const name = path.relative(path.join(ROOT, 'functions'), entry).replace(/\.ts$/, '');
      const file = bundle(entry, path.join(work, name));
      bundled.set(name, file);
      const kb = statSync(file).size / 1024;
      if (kb > worstKb) largest = file;
      worstKb = Math.max(worstKb, kb);
      if (ONLY && !ONLY.test(name)) continue;
      const p = pairedInit(file, baselineFile);
      // Progress on stderr: a full table takes minutes on a loaded machine.
      process.stderr.write(`${name}: ${line(p)}\n`);
      cpuRatios.push(p.cpuRatio);
      wallRatios.push(p.wallRatio);
      const ok = kb <= MAX_KB && p.cpuRatio <= MAX_INIT_RATIO;
      if (!ok) over++;
      rows.push([
        name,
        kb,
        p.base.cpu,
        p.own.cpu,
        ratio(p.cpuRatio),
        p.base.wall,
        p.own.wall,
        ratio(p.wallRatio),
        ...(INSTRUCTIONS ? [ratio(p.instructionRatio)] : []),
        ok ? 'ok' : 'OVER',
      ]);
    }
    printTable(
      `Lambda bundles: size and module init (medians of ${RUNS} cold processes each, alternating with the ` +
        `bare client, ${SOURCE_MAPS ? 'with' : 'without'} --enable-source-maps; verdict on CPU time)`,
      [
        'function',
        'KB',
        'bare CPU ms',
        'CPU ms',
        'CPU ratio',
        'bare wall ms',
        'wall ms',
        'wall ratio',
        ...(INSTRUCTIONS ? ['instructions'] : []),
        `≤${MAX_KB} KB, ≤${MAX_INIT_RATIO}×`,
      ],
      rows,
    );
    // With tracing on (as in Lambda with the `tracing` setting): the side file is loaded too.
    const traced = bundled.get(path.join('handlers', 'http', 'get-device'))!;
    for (const command of tracingBundleCommands(ROOT, path.dirname(traced)))
      execSync(command, { cwd: ROOT, stdio: 'pipe' });
    const tracerKb = statSync(path.join(path.dirname(traced), 'tracing-xray.js')).size / 1024;
    const lambdaEnv = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
    const tracedEnv = { ...lambdaEnv, POWERTOOLS_TRACE_ENABLED: 'true' };
    console.log(
      `\ntracing side file tracing-xray.js ${fmt(tracerKb)} KB, loaded only where tracing records ` +
        `(setting tracing); handlers/http/get-device without tracing in Lambda: ` +
        `${line(pairedInit(traced, baselineFile, { env: lambdaEnv }))}` +
        `\n  with tracing on: ${line(pairedInit(traced, baselineFile, { env: tracedEnv }))}`,
    );
    const iotSync = bundled.get(path.join('handlers', 'events', 'iot-sync'))!;
    console.log(
      'handlers/events/iot-sync with the AWS IoT SDK its first invocation loads: ' +
        line(pairedInit(iotSync, baselineFile, { then: ['@aws-sdk/client-iot'] })),
    );
    const sweep = bundled.get(path.join('handlers', 'scheduled', 'sweep'))!;
    console.log(
      'handlers/scheduled/sweep with the SQS SDK its first send loads: ' +
        line(pairedInit(sweep, baselineFile, { then: ['@aws-sdk/client-sqs'] })),
    );
    console.log(
      `${path.relative(work, path.dirname(largest))} (the largest bundle) with --enable-source-maps ` +
        `(setting sourceMaps), against the baseline with it too: ` +
        line(pairedInit(largest, baselineFile, { sourceMaps: true })),
    );
    console.log(
      `largest bundle ${fmt(worstKb)} KB (target ≤ ${MAX_KB}); CPU ratio median ` +
        `${fmt(median(cpuRatios))}×, worst ${fmt(Math.max(...cpuRatios))}× (target ≤ ${MAX_INIT_RATIO}×); ` +
        `wall ratio median ${fmt(median(wallRatios))}×, worst ${fmt(Math.max(...wallRatios))}×; ` +
        `${rows.length - over} of ${rows.length} functions within both targets`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
