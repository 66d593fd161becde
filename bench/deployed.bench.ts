/**
 * `npm run bench:deployed`: the AWS latency model of the service, measured on the deploy simulation
 * (docs/deployed-simulation.md). The everything-on profile is synthesized with bundling as `cdk deploy`
 * would; every route and every other function is driven through the simulation's AWS endpoint, which
 * counts the AWS calls of each request and how many of them are sequential round trips. Cold init is
 * the time to load each bundle from cdk.out in a fresh runtime process (Node built-ins and the AWS
 * SDK only), BENCH_RUNS samples alternating (ABBA) with a bundle holding only a bare DynamoDB client, as
 * the median of per-pair ratios, in CPU time and wall-clock. The profile turns the `tracing` setting on;
 * each function is measured as the default stack runs it (tracing off: the bundle is the same, only
 * POWERTOOLS_TRACE_ENABLED differs) and as the profile runs it (the Tracer loaded).
 * BENCH_VERDICT=instructions also counts, under valgrind's cachegrind, the instructions of that very runtime
 * process (the simulation's bootstrap loading the bundle from cdk.out with the template's environment, then
 * ending), minus the same process loading an empty handler, as a ratio to the bare client's, tracing off and
 * on, and judges ≤ 1.3× on them (tracing off, the default): the verdict the machine's load does not move.
 * Without it the verdict is on CPU time (±0.2–0.3 between runs here). BENCH_JOBS=2 counts two at a time
 * (the timed samples run alone); BENCH_ONLY=<regex> picks functions by logical id.
 * DEPLOYED_SIM_OUT=<folder> reuses a synthesized output (the one `npm run test:deployed` keeps).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { freePort, type Manifest } from '../test/deployed/global-setup';
import { LambdaContainer, prepareRuntime, type RuntimeSettings } from '../test/deployed/support/lambda-runtime';
import { profiles } from '../test/deployed/support/profiles';
import {
  certificateStatusFlow,
  driveRoutes,
  policyChange,
  startCaFake,
  startWorld,
} from '../test/deployed/support/scenario';
import { synthProfile, type SynthResult } from '../test/deployed/support/synth';
import type { SimFunction } from '../test/deployed/support/template';
import { CACHEGRIND, countedAll, instructionBaseline, instructionsOf, median } from './instructions';
import { fmt, printTable } from './support';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MAX_INIT_RATIO = 1.3;
/** What the ≤ 1.3× verdict is judged on: CPU time (default) or instructions (BENCH_VERDICT=instructions). */
const VERDICT = process.env.BENCH_VERDICT === 'instructions' ? 'instructions' : 'CPU time';
/** Instruction counts run this many at a time (at most 2 on this machine; the timed samples run alone). */
const JOBS = Math.min(2, Number(process.env.BENCH_JOBS ?? 1));
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;

async function synthesized(): Promise<{ result: SynthResult; caPort: number; cleanup?: string }> {
  const keep = process.env.DEPLOYED_SIM_OUT;
  const manifestFile = keep ? path.join(path.resolve(keep), 'manifest.json') : undefined;
  if (manifestFile && existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    const result = manifest.results.find((r) => r.profile === 'everything-on' && r.ok);
    if (result) return { result, caPort: manifest.caPort };
  }
  const root = mkdtempSync(path.join(tmpdir(), 'deploy-sim-bench-'));
  const caPort = await freePort();
  const profile = profiles(caPort).find((p) => p.name === 'everything-on')!;
  const result = await synthProfile(profile, path.join(root, profile.name));
  if (!result.ok) throw new Error(result.error);
  return { result, caPort, cleanup: root };
}

interface Runtime {
  nodePath: string;
  bootstrap: string;
}

/** A container of the function as the simulation runs it, with nowhere to send calls (only its init runs). */
const container = (fn: SimFunction, runtime: Runtime, launcher?: RuntimeSettings['launcher']) =>
  new LambdaContainer(fn, {
    ...runtime,
    region: 'eu-west-1',
    account: '123456789012',
    endpointUrl: 'http://127.0.0.1:9',
    xrayDaemon: '127.0.0.1:9',
    accessKeyId: () => 'ASIASIMBENCH000000000',
    launcher,
  });

/** One cold init of a function's bundle in a fresh runtime process: wall-clock and CPU time, ms. */
async function initOnce(fn: SimFunction, runtime: Runtime): Promise<{ wall: number; cpu: number }> {
  const c = container(fn, runtime);
  const wall = await c.initMs;
  await c.stop();
  return { wall, cpu: c.initCpuMs! };
}

/**
 * Instructions of the runtime process (under valgrind) that starts, loads the bundle as a cold start does,
 * and ends once its channel is closed: the same bootstrap and environment as the simulation's containers.
 */
async function instructionsOnce(fn: SimFunction, runtime: Runtime): Promise<number> {
  const c = container(fn, runtime, { execPath: 'valgrind', execArgv: CACHEGRIND });
  await c.initMs;
  await c.release();
  return instructionsOf(c.logs());
}

interface ColdInit {
  /** Medians of the function's own samples, ms. */
  wall: number;
  cpu: number;
  /** Medians of the per-pair ratios to the baseline sampled next to each sample (ABBA order). */
  wallRatio: number;
  cpuRatio: number;
}

/**
 * Cold init of a function beside the baseline's, sampled in alternation (ABBA), BENCH_RUNS each: each
 * sample's ratio is to the baseline sample taken next to it, under the same machine load.
 */
async function coldInit(fn: SimFunction, baseline: SimFunction, runtime: Runtime): Promise<ColdInit> {
  const own: { wall: number; cpu: number }[] = [];
  const base: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) base.push(await initOnce(baseline, runtime));
    own.push(await initOnce(fn, runtime));
    if (i % 2 === 1) base.push(await initOnce(baseline, runtime));
  }
  return {
    wall: median(own.map((s) => s.wall)),
    cpu: median(own.map((s) => s.cpu)),
    wallRatio: median(own.map((s, i) => s.wall / base[i]!.wall)),
    cpuRatio: median(own.map((s, i) => s.cpu / base[i]!.cpu)),
  };
}

/** The function as a stack with the `tracing` setting off (the default) runs it: the Tracer is not loaded. */
function withoutTracing(fn: SimFunction): SimFunction {
  const { POWERTOOLS_TRACE_ENABLED: _, ...environment } = fn.environment;
  return { ...fn, environment };
}

async function main() {
  const { result, caPort, cleanup } = await synthesized();
  const world = await startWorld(result);
  const ca = await startCaFake(caPort);
  const caSecret = [...world.stack.functions.values()]
    .map((f) => f.environment.CA_AUTH_HEADER_SECRET_ARN)
    .find(Boolean);
  if (caSecret) world.endpoint.secretValues.set(caSecret, 'Bearer bench');
  try {
    // The flows of the test tier; the first request of a route is its cold one and is measured too,
    // but calls are counted per request whatever the container's state.
    const outcomes = await driveRoutes(world);
    await world.settle();
    await certificateStatusFlow(world);
    await world.settle();
    await policyChange(world);
    await world.schedule(world.fn('SweeperSweep'));
    await world.settle();
    if (world.endpoint.denials.length > 0) throw new Error(`denied: ${JSON.stringify(world.endpoint.denials)}`);

    const runtime = prepareRuntime(path.dirname(result.outdir));
    // The baseline: a bundle holding only a bare DynamoDB document client, built like the functions.
    const baselineDir = path.join(path.dirname(result.outdir), 'bench-baseline');
    mkdirSync(baselineDir, { recursive: true });
    buildSync({
      entryPoints: [path.join(ROOT, 'bench', 'fixtures', 'bare-client.ts')],
      outfile: path.join(baselineDir, 'index.js'),
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
    const anyFn = [...world.stack.functions.values()][0]!;
    const baselineFn: SimFunction = {
      ...anyFn,
      logicalId: 'BareClient',
      name: 'bare-client',
      assetDir: baselineDir,
      handler: 'index.handler',
      // Source maps applied as the functions' template says (setting `sourceMaps`).
      environment: {
        TABLE_NAME: 'bench',
        ...(anyFn.environment.NODE_OPTIONS ? { NODE_OPTIONS: anyFn.environment.NODE_OPTIONS } : {}),
      },
    };
    // The empty process of the counts: the same bootstrap and environment loading a handler that does nothing.
    const emptyDir = path.join(path.dirname(result.outdir), 'bench-empty');
    mkdirSync(emptyDir, { recursive: true });
    writeFileSync(path.join(emptyDir, 'index.js'), 'exports.handler = async () => {};\n');
    const emptyFn: SimFunction = { ...baselineFn, logicalId: 'Empty', name: 'empty', assetDir: emptyDir };
    const measured = [...world.stack.functions.values()].filter((fn) => !ONLY || ONLY.test(fn.logicalId));
    // Instructions first, BENCH_JOBS at a time (the load does not move them); then the timed samples alone.
    const counts = new Map<string, number>();
    if (VERDICT === 'instructions') {
      const baseline = await instructionBaseline(
        (which) => instructionsOnce(which === 'empty' ? emptyFn : baselineFn, runtime),
        JOBS,
      );
      const variants = new Map(
        measured.flatMap((fn) => [
          [`${fn.logicalId} off`, withoutTracing(fn)],
          [`${fn.logicalId} on`, fn],
        ]),
      );
      for (const [name, ratio] of await countedAll(variants, (fn) => instructionsOnce(fn, runtime), baseline, JOBS))
        counts.set(name, ratio);
    }
    const baselineInit = await coldInit(baselineFn, baselineFn, runtime);
    const initOf = new Map<string, { off: ColdInit; on: ColdInit }>();
    for (const fn of measured) {
      const off = await coldInit(withoutTracing(fn), baselineFn, runtime);
      const on = await coldInit(fn, baselineFn, runtime);
      process.stderr.write(`${fn.logicalId}: CPU ${fmt(off.cpuRatio)}×, with tracing ${fmt(on.cpuRatio)}×\n`);
      initOf.set(fn.logicalId, { off, on });
    }
    const counted = VERDICT === 'instructions';
    const instructionCells = (logicalId: string) =>
      counted ? [`${fmt(counts.get(`${logicalId} off`)!)}×`, `${fmt(counts.get(`${logicalId} on`)!)}×`] : [];
    const initCells = (logicalId: string) => {
      const { off, on } = initOf.get(logicalId)!;
      return [
        off.cpu,
        `${fmt(off.cpuRatio)}×`,
        `${fmt(off.wallRatio)}×`,
        `${fmt(on.cpuRatio)}×`,
        ...instructionCells(logicalId),
      ];
    };

    const rows: (string | number)[][] = [
      [
        '(bare DynamoDB document client)',
        '',
        '',
        '',
        baselineInit.cpu,
        '1.00×',
        '1.00×',
        '',
        ...(counted ? ['1.00×', ''] : []),
      ],
    ];
    const seen = new Set<string>();
    for (const o of outcomes) {
      if (seen.has(o.routeKey) || !initOf.has(o.function)) continue;
      seen.add(o.routeKey);
      rows.push([o.routeKey, o.status, String(o.calls), String(o.rounds), ...initCells(o.function)]);
    }
    // The functions behind no route: the largest invocation of each.
    const routed = new Set(world.stack.routes.map((r) => r.function.logicalId));
    for (const fn of measured) {
      if (routed.has(fn.logicalId)) continue;
      const runs = world.invocations.filter((i) => i.function === fn.logicalId);
      const worst = runs.reduce((m, i) => (i.calls > m.calls ? i : m), {
        calls: 0,
        rounds: 0,
        trigger: 'not invoked',
      } as { calls: number; rounds: number; trigger: string });
      rows.push([
        `${fn.logicalId.replace(/Function[0-9A-F]{8}$/, '')} (${worst.trigger.split(' ')[0]}, ${runs.length} inv.)`,
        '',
        String(worst.calls),
        String(worst.rounds),
        ...initCells(fn.logicalId),
      ]);
    }
    printTable(
      `Deployed simulation (everything-on profile): AWS calls per request and cold init of the bundle ` +
        `(fresh runtime processes, BENCH_RUNS=${RUNS} each alternating with the bare client; ratios the ` +
        `median of per-pair ratios; tracing off as by default, and as the profile sets it` +
        `${counted ? '; instructions counted by cachegrind, an empty handler subtracted' : ''})`,
      [
        'route / function',
        'status',
        'AWS calls',
        'sequential',
        'init CPU ms',
        'CPU ratio',
        'wall ratio',
        'traced',
        ...(counted ? ['instructions', 'traced instr.'] : []),
      ],
      rows,
    );
    const all = [...initOf.values()];
    const summary = (label: string, values: number[]) =>
      `${label} median ${fmt(median(values))}×, worst ${fmt(Math.max(...values))}×`;
    const cpu = all.map((i) => i.off.cpuRatio);
    const wall = all.map((i) => i.off.wallRatio);
    const traced = all.map((i) => i.on.cpuRatio);
    const judged = counted ? [...initOf.keys()].map((id) => counts.get(`${id} off`)!) : cpu;
    const within = judged.filter((r) => r <= MAX_INIT_RATIO).length;
    const instructionSummary = counted
      ? `; instructions ${summary('ratio', judged)}, with tracing on ` +
        summary(
          'ratio',
          [...initOf.keys()].map((id) => counts.get(`${id} on`)!),
        )
      : '';
    console.log(
      `\n${world.endpoint.calls.length} AWS calls authorized, ${world.endpoint.denials.length} denied; ` +
        `init as by default (tracing off): ${summary('CPU ratio', cpu)}, ${summary('wall ratio', wall)}; ` +
        `with tracing on: ${summary('CPU ratio', traced)}${instructionSummary}; ` +
        `${within} of ${judged.length} functions ≤ ${MAX_INIT_RATIO}× (tracing off) judged on ${VERDICT}`,
    );
  } finally {
    await world.stop();
    await new Promise((resolve) => ca.server.close(resolve));
    if (cleanup) rmSync(cleanup, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
