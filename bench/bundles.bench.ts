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
 * Each ratio is the median of the per-pair ratios (a function's sample over the baseline's sample next to it),
 * so a load that drifts during a function's samples moves both sides of a pair alike.
 * BENCH_INSTRUCTIONS=on adds instructions counted by valgrind's cachegrind (an empty process subtracted),
 * a figure the load does not move (slow: about 10 s of CPU per bundle); BENCH_ONLY=<regex> picks functions.
 * BENCH_VERDICT=instructions counts them for every function and judges ≤ 1.3× on them: the robust verdict,
 * the same in every run whatever the load (about 12 minutes for every function on a quiet machine;
 * BENCH_JOBS=2 counts two at a time); CPU and wall stand beside.
 * Below the table: the Powertools Tracer side file (tracing-xray.js, loaded only where tracing records)
 * and one function with it loaded; the IoT sync with the AWS IoT SDK it loads on its first invocation, the
 * sweeper with the SQS SDK its first send loads;
 * and the largest bundle with source maps applied (the `sourceMaps` setting on).
 */
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { tracingBundleCommands } from '../lib/constructs/service-function';
import {
  countedAll,
  type InstructionBaseline,
  instructionBaseline,
  instructions,
  instructionsAsync,
  median,
} from './instructions';
import { fmt, printTable } from './support';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const MAX_KB = 250;
const MAX_INIT_RATIO = 1.3;
/** The stack's default (`sourceMaps: false`) unless BENCH_SOURCE_MAPS=on. */
const SOURCE_MAPS = process.env.BENCH_SOURCE_MAPS === 'on';
/** What the ≤ 1.3× verdict is judged on: CPU time (default) or instructions (BENCH_VERDICT=instructions). */
const VERDICT = process.env.BENCH_VERDICT === 'instructions' ? 'instructions' : 'CPU time';
const INSTRUCTIONS = VERDICT === 'instructions' || process.env.BENCH_INSTRUCTIONS === 'on';
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
/** Instruction counts run this many at a time (they do not depend on the load; timed samples run alone). */
const JOBS = Number(process.env.BENCH_JOBS ?? 1);
/** The lines below the table count instructions only in a run of every function (they take minutes). */
const EXTRAS_COUNTED = !ONLY;

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
  /** false: no instruction count here (the table's are counted beforehand, in parallel). */
  counted?: boolean;
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

/** The command line of a process that requires the bundle (or nothing: the empty process). */
function commandOf(file: string | undefined, { sourceMaps = SOURCE_MAPS, then = [] }: Sampling): string[] {
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  return [process.execPath, ...flags, '-e', requireScript(file, then) || '0'];
}

/** The process that requires the bundle (or nothing), as valgrind runs it. */
const counting = (file: string | undefined, sampling: Sampling = {}) => ({
  command: commandOf(file, sampling),
  env: processEnv(sampling.env ?? {}),
  cwd: ROOT,
});

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
  // Sample i of each side were taken one after the other (ABBA): their ratio saw one machine load.
  const pairRatio = (of: (s: Sample) => number) => median(own.map((s, i) => of(s) / of(base[i]!)));
  return {
    own: medians(own),
    base: medians(base),
    wallRatio: pairRatio((s) => s.wall),
    cpuRatio: pairRatio((s) => s.cpu),
    ...counted(file, sampling),
  };
}

let instructionBase: { empty: number; byMaps: Map<boolean, number> } | undefined;
let baselineForInstructions = '';

/** The empty process's and the baseline's instructions (the latter without the empty process's). */
function baselineCounts(maps: boolean): InstructionBaseline {
  instructionBase ??= { empty: instructions(counting(undefined, { sourceMaps: false })), byMaps: new Map() };
  const { empty, byMaps } = instructionBase;
  if (!byMaps.has(maps))
    byMaps.set(maps, instructions(counting(baselineForInstructions, { sourceMaps: maps })) - empty);
  return { empty, base: byMaps.get(maps)! };
}

function counted(file: string, sampling: Sampling): { instructionRatio?: number } {
  if (!INSTRUCTIONS || sampling.counted === false) return {};
  const { empty, base } = baselineCounts(sampling.sourceMaps ?? SOURCE_MAPS);
  return { instructionRatio: (instructions(counting(file, sampling)) - empty) / base };
}

/** Instruction ratios of the table's bundles (with the stack's defaults), BENCH_JOBS counted at a time. */
async function countedTable(files: Map<string, string>): Promise<Map<string, number>> {
  if (!INSTRUCTIONS) return new Map();
  const baseline = await instructionBaseline(
    (which) =>
      instructionsAsync(
        which === 'empty'
          ? counting(undefined, { sourceMaps: false })
          : counting(baselineForInstructions, { sourceMaps: SOURCE_MAPS }),
      ),
    JOBS,
  );
  instructionBase ??= { empty: baseline.empty, byMaps: new Map([[SOURCE_MAPS, baseline.base]]) };
  return countedAll(files, (file) => instructionsAsync(counting(file)), baseline, JOBS);
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

async function main() {
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
    const instructionRatios: number[] = [];
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
    }
    const selected = new Map([...bundled].filter(([name]) => !ONLY || ONLY.test(name)));
    const instructionRatioOf = await countedTable(selected);
    for (const [name, file] of selected) {
      const kb = statSync(file).size / 1024;
      const p = {
        ...pairedInit(file, baselineFile, { counted: false }),
        instructionRatio: instructionRatioOf.get(name),
      };
      // Progress on stderr: a full table takes minutes on a loaded machine.
      process.stderr.write(`${name}: ${line(p)}\n`);
      cpuRatios.push(p.cpuRatio);
      wallRatios.push(p.wallRatio);
      if (p.instructionRatio !== undefined) instructionRatios.push(p.instructionRatio);
      const judged = VERDICT === 'instructions' ? p.instructionRatio! : p.cpuRatio;
      const ok = kb <= MAX_KB && judged <= MAX_INIT_RATIO;
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
        `bare client, ratios the median of per-pair ratios, ${SOURCE_MAPS ? 'with' : 'without'} ` +
        `--enable-source-maps; verdict on ${VERDICT})`,
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
        `${line(pairedInit(traced, baselineFile, { env: lambdaEnv, counted: EXTRAS_COUNTED }))}` +
        `\n  with tracing on: ${line(pairedInit(traced, baselineFile, { env: tracedEnv, counted: EXTRAS_COUNTED }))}`,
    );
    const iotSync = bundled.get(path.join('handlers', 'events', 'iot-sync'))!;
    console.log(
      'handlers/events/iot-sync with the AWS IoT SDK its first invocation loads: ' +
        line(pairedInit(iotSync, baselineFile, { then: ['@aws-sdk/client-iot'], counted: EXTRAS_COUNTED })),
    );
    const sweep = bundled.get(path.join('handlers', 'scheduled', 'sweep'))!;
    console.log(
      'handlers/scheduled/sweep with the SQS SDK its first send loads: ' +
        line(pairedInit(sweep, baselineFile, { then: ['@aws-sdk/client-sqs'], counted: EXTRAS_COUNTED })),
    );
    console.log(
      `${path.relative(work, path.dirname(largest))} (the largest bundle) with --enable-source-maps ` +
        `(setting sourceMaps), against the baseline with it too: ` +
        line(pairedInit(largest, baselineFile, { sourceMaps: true, counted: EXTRAS_COUNTED })),
    );
    console.log(
      `largest bundle ${fmt(worstKb)} KB (target ≤ ${MAX_KB}); CPU ratio median ` +
        `${fmt(median(cpuRatios))}×, worst ${fmt(Math.max(...cpuRatios))}×; ` +
        `wall ratio median ${fmt(median(wallRatios))}×, worst ${fmt(Math.max(...wallRatios))}×; ` +
        (instructionRatios.length > 0
          ? `instruction ratio median ${fmt(median(instructionRatios))}×, ` +
            `worst ${fmt(Math.max(...instructionRatios))}×; `
          : '') +
        `${rows.length - over} of ${rows.length} functions within both targets ` +
        `(≤ ${MAX_KB} KB; init ≤ ${MAX_INIT_RATIO}× judged on ${VERDICT})`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
