/**
 * `npm run bench:import`: the CLI importing a 20,000-row CSV into the local service, against a bare
 * loop of `POST /v2/devices` at the same concurrency, both as separate processes against the same
 * service in one run (bare half, CLI, bare half: both sides see the table grow alike). Target: the
 * CLI's rate ≥ 0.9× the bare loop's (the CLI is never the bottleneck). Then the same number of rows
 * imported server-side (`import --server-side`: uploaded once, imported by the service's job workers,
 * JOB_WORKERS of them, the pieces on IMPORT_THREADS worker threads beside the engine's). Target: ≥ 3×
 * the CLI's rate.
 *
 * Each phase starts with the change feed drained (no phase pays for the events of another) and ends
 * once its own events are published too. Beside rows/s, the service's CPU time per row (this process:
 * API, job workers, engine and change feed) is a second figure that a loaded machine moves less.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startLocalService } from '../local/main';
import { IMPORT_CSV_HEADER, importCsvLine } from './fixtures/import-rows';
import { fmt, printTable } from './support';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 20000);
const CONCURRENCY = Number(process.env.BENCH_IMPORT_CONCURRENCY ?? 16);
const JOB_WORKERS = process.env.BENCH_IMPORT_JOB_WORKERS ?? '4';
/** Worker threads for the import's pieces (local/import-threads.ts); 0: on the engine's thread. */
const THREADS = process.env.BENCH_IMPORT_THREADS ?? '1';
const run = promisify(execFile);
const root = path.resolve(__dirname, '..');

async function bare(api: string, first: number, count: number): Promise<{ count: number; seconds: number }> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/fixtures/import-baseline.ts', api, String(first), String(count), String(CONCURRENCY)],
    { cwd: root },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { count: number; seconds: number };
}

/** A phase from a drained change feed until its own events are out: its seconds, the drain's, the service's CPU. */
async function phase<T>(drain: () => Promise<void>, work: () => Promise<T>) {
  await drain();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const doneAt = performance.now();
  await drain();
  const used = process.cpuUsage(cpu);
  return {
    result,
    drainSeconds: (performance.now() - doneAt) / 1000,
    cpuMs: (used.user + used.system) / 1000,
    seconds: (doneAt - started) / 1000,
  };
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-import-'));
  const file = path.join(dir, 'fleet.csv');
  const serverFile = path.join(dir, 'fleet-server.csv');
  for (const [name, prefix] of [
    [file, 'cli'],
    [serverFile, 'srv'],
  ] as const)
    writeFileSync(
      name,
      [IMPORT_CSV_HEADER, ...Array.from({ length: ROWS }, (_, n) => importCsvLine(prefix, n)), ''].join('\n'),
    );
  const service = await startLocalService({
    env: {
      IN_MEMORY: 'true',
      PORT: '0',
      TABLE_NAME: `bench-${randomUUID()}`,
      SWEEP_INTERVAL_SECONDS: '0',
      JOB_WORKERS,
      IMPORT_THREADS: THREADS,
    },
    quiet: true,
  });
  try {
    console.log(
      `warming up, then ${ROWS / 2} bare POSTs, a ${ROWS}-row CLI ` +
        `import, ${ROWS / 2} bare POSTs (concurrency ${CONCURRENCY})…`,
    );
    const drain = service.events.drain;
    await bare(service.url, 1_000_000, 500);
    const bare1 = await phase(drain, () => bare(service.url, 0, ROWS / 2));
    const first = bare1.result;
    const cli = await phase(drain, () =>
      run(
        process.execPath,
        [
          'cli/device-manager.cjs',
          'import',
          file,
          '--api',
          service.url,
          '--concurrency',
          String(CONCURRENCY),
          '--progress-interval',
          '0',
        ],
        { cwd: root },
      ),
    );
    const { stdout } = cli.result;
    const bare2 = await phase(drain, () => bare(service.url, ROWS / 2, ROWS / 2));
    const second = bare2.result;
    const srv = await phase(drain, () =>
      run(
        process.execPath,
        [
          'cli/device-manager.cjs',
          'import',
          serverFile,
          '--server-side',
          '--api',
          service.url,
          '--progress-interval',
          '0',
        ],
        { cwd: root },
      ),
    );
    const server = srv.result;
    const serverSummary = /(\d+) lines in ([\d.]+)s/.exec(server.stdout);
    if (!serverSummary || Number(/created\s+(\d+)/.exec(server.stdout)?.[1]) !== ROWS)
      throw new Error(`unexpected server-side summary:\n${server.stdout}`);
    const serverRate = ROWS / Number(serverSummary[2]);
    const summary = /(\d+) lines in ([\d.]+)s/.exec(stdout);
    const created = /created\s+(\d+)/.exec(stdout)?.[1];
    if (!summary || Number(created) !== ROWS) throw new Error(`unexpected CLI summary:\n${stdout}`);
    const cliRate = ROWS / Number(summary[2]);
    const bareRate = (first.count + second.count) / (first.seconds + second.seconds);
    // The service's CPU per row, each phase with the publishing of its own events.
    const bareCpu = (bare1.cpuMs + bare2.cpuMs) / (first.count + second.count);
    const cliCpu = cli.cpuMs / ROWS;
    const serverCpu = srv.cpuMs / ROWS;
    // Rows/s until the events are out as well (the change feed's backlog after the last row).
    const cliOut = ROWS / (Number(summary[2]) + cli.drainSeconds);
    const serverOut = ROWS / (Number(serverSummary[2]) + srv.drainSeconds);
    printTable(
      `Import of ${ROWS} devices at concurrency ${CONCURRENCY}`,
      ['client', 'rows', 'seconds', 'rows/s', 'events out after (s)', 'rows/s with events', 'service CPU ms/row'],
      [
        [
          'bare POST loop',
          first.count + second.count,
          first.seconds + second.seconds,
          bareRate,
          bare1.drainSeconds + bare2.drainSeconds,
          (first.count + second.count) / (first.seconds + second.seconds + bare1.drainSeconds + bare2.drainSeconds),
          bareCpu,
        ],
        ['device-manager import (CSV)', ROWS, Number(summary[2]), cliRate, cli.drainSeconds, cliOut, cliCpu],
        [
          `import --server-side (${JOB_WORKERS} job workers, ${THREADS} thread(s))`,
          ROWS,
          Number(serverSummary[2]),
          serverRate,
          srv.drainSeconds,
          serverOut,
          serverCpu,
        ],
      ],
    );
    console.log(`\nCLI rate / bare loop rate: ${fmt(cliRate / bareRate)}× (target ≥ 0.9×)`);
    console.log(
      `server-side rate / CLI rate: ${fmt(serverRate / cliRate)}× (target ≥ 3×); ` +
        `with events out ${fmt(serverOut / cliOut)}×; ` +
        `service CPU per row CLI / server-side ${fmt(cliCpu / serverCpu)}×`,
    );
    console.log(
      `load average at the end: ${loadavg()
        .map((n) => n.toFixed(1))
        .join(', ')} (${cpus().length} cores)`,
    );
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
