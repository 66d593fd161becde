/**
 * `npm run bench:sweep`: the sweeper reads only what is due. Fleets of 2,000 and 20,000 devices with
 * the same 200 due: items read per sweep (target ≤ 1.2 × due) and sweep time (20k / 2k ≤ 1.3); then
 * transitions/s with 1, 4 and 16 workers (target: 4 workers ≥ 3× one), on the embedded engine in this
 * process, then on an engine in a process of its own that answers every call after a latency
 * (BENCH_DYNAMO_LATENCY_MS, default 10; docs/local-engine.md, Latency model): the deployed case, where
 * a worker waits on DynamoDB rather than spending its CPU on it; then the lag from a boundary to the
 * persisted status in the local service (≤ interval + 10 s). Each worker-scaling run prints the CPU per
 * transition on both sides and the cores the run kept busy, so a run bound by the machine's CPU shows
 * as such. BENCH_SWEEP_MODE (in | own), BENCH_SWEEP_WORKERS, BENCH_SWEEP_RUNS (series, medians last)
 * and BENCH_PROFILE_DIR (CPU profiles of each measured sweep, both processes) narrow or explain a run.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { performance } from 'node:perf_hooks';
import { deviceService } from '../functions/app/devices';
import { sweep } from '../functions/app/sweep';
import { bookmarkCodec } from '../functions/adapters/dynamodb/bookmark';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { deviceRepository } from '../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../functions/adapters/dynamodb/policy-repository';
import { sweepIndex } from '../functions/adapters/dynamodb/sweep-index';
import { parseCertificate, type ParsedCertificate } from '../functions/domain/certificate';
import { ensureTable } from '../local/create-table';
import { startEngine } from '@device-manager/local-engine';
import { startLocalService } from '../local/main';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cpuProfiler } from './profile';
import { fmt, inParallel, printTable } from './support';

const DAY = 86_400_000;
const DUE = 200;
const SMALL = 2000;
const LARGE = Number(process.env.BENCH_LARGE_FLEET ?? 20000);
const INTERVAL_SECONDS = 5;
/** Devices crossing a boundary per worker-scaling run, and the page a due task reads. */
const SCALING_DUE = Number(process.env.BENCH_SWEEP_DUE ?? 480);
const SCALING_PAGE = 20;
const LATENCY_MS = Number(process.env.BENCH_DYNAMO_LATENCY_MS ?? 10);

async function pem(notAfter: Date): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomUUID().replace(/-/g, '').slice(0, 16),
    name: 'CN=bench',
    notBefore: new Date('2020-01-01'),
    notAfter,
    keys,
    signingAlgorithm: alg,
  });
  return cert.toString('pem');
}

/** A fresh table on the engine with the sweeper's adapters over it, at a fixed clock the caller moves. */
async function benchFleet(endpoint: string, prefix: string) {
  const tableName = `${prefix}-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint, region: 'us-east-1' });
  await ensureTable(admin, tableName);
  admin.destroy();
  const client = createDocumentClient({ endpoint, region: 'us-east-1' });
  const t0 = Date.parse('2026-03-15T10:00:00.000Z');
  const clock = { at: t0, now: () => new Date(clock.at) };
  const bookmarks = bookmarkCodec('bench');
  const repository = deviceRepository({ client, tableName, listShards: 4, statsShards: 4, dueShards: 4, bookmarks });
  const policies = policyRepository({ client, tableName, bookmarks });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const index = sweepIndex({ repository, client, tableName });
  return { t0, client, clock, repository, policies, service, index };
}

async function fleetSweeps() {
  const engine = await startEngine();
  const { t0, client, clock, repository, policies, service, index } = await benchFleet(engine.endpoint, 'sweep');
  const workers = 4;
  const far = parseCertificate(await pem(new Date(t0 + 730 * DAY)));

  const seed = (prefix: string, count: number, cert: ParsedCertificate | undefined) =>
    inParallel(
      Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
      16,
      async (id, i) => {
        await service.register({ id, dms_id: `dms-${i % 10}` });
        // Half of the background fleet has an identity far from any boundary, half none.
        if (cert && (prefix.startsWith('due') || i % 2 === 0))
          await service.bind(id, 'identity', { type: 'x509', certificate: cert });
      },
    );

  const measureSweep = async () => {
    const read = repository.itemsRead;
    const started = performance.now();
    const report = await sweep({ index, policies, service, clock }, { deadline: Date.now() + 600_000, workers });
    return { report, ms: performance.now() - started, read: repository.itemsRead - read };
  };

  console.log(`seeding ${SMALL} devices (${DUE} due)…`);
  await seed('bg-a', SMALL - DUE, far);
  await seed('due-a', DUE, parseCertificate(await pem(new Date(t0 + 61 * DAY))));
  clock.at = t0 + 2 * DAY;
  const small = await measureSweep();

  console.log(`seeding up to ${LARGE} devices (${DUE} newly due)…`);
  await seed('bg-b', LARGE - SMALL - DUE, far);
  await seed('due-b', DUE, parseCertificate(await pem(new Date(t0 + 63 * DAY))));
  clock.at = t0 + 4 * DAY;
  const large = await measureSweep();

  printTable(
    'Sweep cost by fleet size (same 200 due)',
    ['fleet', 'due read', 'transitions', 'items read', 'read / due', 'sweep ms'],
    [
      [
        SMALL,
        small.report.due,
        small.report.transitioned,
        small.read,
        `${fmt(small.read / small.report.due)}×`,
        small.ms,
      ],
      [
        LARGE,
        large.report.due,
        large.report.transitioned,
        large.read,
        `${fmt(large.read / large.report.due)}×`,
        large.ms,
      ],
      [
        `ratio ${LARGE / 1000}k/${SMALL / 1000}k`,
        '',
        '',
        `${fmt(large.read / small.read)}×`,
        '',
        `${fmt(large.ms / small.ms)}×`,
      ],
    ],
  );
  client.destroy();
  await engine.stop();
}

interface BenchEngine {
  endpoint: string;
  stop(): Promise<void> | void;
  /** CPU ms the engine's process has used so far, when it is not this process. */
  cpuMs?: () => Promise<number>;
  /** Starts a CPU profile of the engine's process, and writes it to `file`. */
  profile?: () => Promise<void>;
  profiled?: (file: string) => Promise<void>;
}

/** An engine in a child process answering after `latencyMs`: DynamoDB's time, none of it on this process's CPU. */
async function engineProcess(latencyMs: number): Promise<BenchEngine> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fixtures/engine-process.ts', String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const line = lines.shift();
      if (line === undefined) waiting.push(resolve);
      else resolve(line);
    });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`engine process exited with ${code}`))),
  );
  exited.catch(() => undefined);
  const endpoint = await Promise.race([nextLine(), exited]);
  return {
    endpoint,
    stop: () => void child.kill(),
    async cpuMs() {
      child.stdin.write('cpu\n');
      return Number(await nextLine());
    },
    async profile() {
      child.stdin.write('profile start\n');
      await nextLine();
    },
    async profiled(file: string) {
      child.stdin.write(`profiled ${file}\n`);
      await nextLine();
    },
  };
}

interface ScalingRun {
  rate: number;
  /** CPU ms per transition in this process, and in the engine's process when it has its own. */
  cpuMs: number;
  engineCpuMs?: number;
}

/** Transitions/s of one sweep of SCALING_DUE due devices with `workers` workers, and the CPU per transition. */
async function scalingRun(engine: BenchEngine, workers: number): Promise<ScalingRun> {
  const { t0, client, clock, policies, service, index } = await benchFleet(engine.endpoint, 'scale');
  const cert = parseCertificate(await pem(new Date(t0 + 61 * DAY)));
  await inParallel(
    Array.from({ length: SCALING_DUE }, (_, i) => `due-${i}`),
    16,
    async (id, i) => {
      await service.register({ id, dms_id: `dms-${i % 10}` });
      await service.bind(id, 'identity', { type: 'x509', certificate: cert });
    },
  );
  // A first sweep with nothing due back-fills the indexed keys of the new table, so the measured one only transitions.
  await sweep({ index, policies, service, clock }, { deadline: Date.now() + 600_000 });
  clock.at = t0 + 2 * DAY;
  // BENCH_PROFILE_DIR: CPU profiles of the measured sweep, here and in the engine's process.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profiler = cpuProfiler();
  if (profileDir) await Promise.all([profiler.start(), engine.profile?.()]);
  const engineCpu = await engine.cpuMs?.();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const report = await sweep(
    { index, policies, service, clock },
    { deadline: Date.now() + 600_000, workers, pageSize: SCALING_PAGE },
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const engineUsed = engineCpu === undefined ? undefined : (await engine.cpuMs!()) - engineCpu;
  if (profileDir) {
    const name = path.join(profileDir, `sweep-${workers}w-${Date.now()}`);
    await Promise.all([profiler.stop(`${name}.bench.cpuprofile`), engine.profiled?.(`${name}.engine.cpuprofile`)]);
  }
  client.destroy();
  if (report.transitioned !== SCALING_DUE)
    throw new Error(`expected ${SCALING_DUE} transitions: ${JSON.stringify(report)}`);
  return {
    rate: report.transitioned / seconds,
    cpuMs: (used.user + used.system) / 1000 / report.transitioned,
    engineCpuMs: engineUsed === undefined ? undefined : engineUsed / report.transitioned,
  };
}

/** Worker counts (BENCH_SWEEP_WORKERS, default 1,4,16; the ratios need 1 and 4) and series (BENCH_SWEEP_RUNS). */
const WORKER_COUNTS = (process.env.BENCH_SWEEP_WORKERS ?? '1,4,16').split(',').map(Number);
const SERIES = Number(process.env.BENCH_SWEEP_RUNS ?? 1);

async function workerScaling() {
  const rows: (string | number)[][] = [];
  const modes = [
    { name: 'embedded engine, in this process', start: async (): Promise<BenchEngine> => startEngine() },
    {
      name: `engine in its own process, +${LATENCY_MS} ms per call`,
      start: () => engineProcess(LATENCY_MS),
    },
  ].filter((_, i) => process.env.BENCH_SWEEP_MODE === undefined || process.env.BENCH_SWEEP_MODE === ['in', 'own'][i]);
  const ratio = (runs: Map<number, ScalingRun>, workers: number) => {
    const one = runs.get(1)?.rate;
    const many = runs.get(workers)?.rate;
    return one && many ? `${fmt(many / one)}×` : '';
  };
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const row = (name: string, runs: Map<number, ScalingRun>) => {
    const one = runs.get(WORKER_COUNTS[0]!)!;
    return [
      name,
      ...WORKER_COUNTS.map((w) => runs.get(w)!.rate),
      ...WORKER_COUNTS.filter((w) => w !== 1).map((w) => ratio(runs, w)),
      one.cpuMs,
      one.engineCpuMs ?? 'in the column before',
      // CPU the run kept busy (both processes): far below the machine's cores, the run waited on calls;
      // near what the machine could give it, it queued for CPU.
      ...WORKER_COUNTS.map((w) => {
        const run = runs.get(w)!;
        return (run.rate * (run.cpuMs + (run.engineCpuMs ?? 0))) / 1000;
      }),
    ];
  };
  for (const mode of modes) {
    const engine = await mode.start();
    const all: Map<number, ScalingRun>[] = [];
    try {
      // Series after series on one engine, the order of worker counts reversed every other series,
      // so a drift of the machine's load reaches each count alike; the medians are printed last.
      for (let series = 1; series <= SERIES; series++) {
        const runs = new Map<number, ScalingRun>();
        const order = series % 2 ? WORKER_COUNTS : [...WORKER_COUNTS].reverse();
        for (const workers of order) runs.set(workers, await scalingRun(engine, workers));
        all.push(runs);
        rows.push(row(SERIES > 1 ? `${mode.name} (${series})` : mode.name, runs));
      }
    } finally {
      await engine.stop();
    }
    if (SERIES > 1) {
      const medians = new Map<number, ScalingRun>();
      for (const w of WORKER_COUNTS) {
        const runs = all.map((r) => r.get(w)!);
        const engineCpu = runs.map((r) => r.engineCpuMs).filter((c): c is number => c !== undefined);
        medians.set(w, {
          rate: median(runs.map((r) => r.rate)),
          cpuMs: median(runs.map((r) => r.cpuMs)),
          engineCpuMs: engineCpu.length ? median(engineCpu) : undefined,
        });
      }
      rows.push(row(`${mode.name}, median of ${SERIES}`, medians));
    }
  }
  printTable(
    `Sweep transitions/s by workers (${SCALING_DUE} due devices, pages of ${SCALING_PAGE}; ` +
      `target 4 workers ≥ 3× one; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`,
    [
      'DynamoDB',
      ...WORKER_COUNTS.map((w) => `${w} worker${w === 1 ? '' : 's'}`),
      ...WORKER_COUNTS.filter((w) => w !== 1).map((w) => `${w} / 1`),
      `CPU ms here per transition (${WORKER_COUNTS[0]})`,
      'CPU ms in the engine per transition',
      ...WORKER_COUNTS.map((w) => `cores busy, ${w}`),
    ],
    rows,
  );
}

async function localLag() {
  const service = await startLocalService({
    env: {
      IN_MEMORY: 'true',
      PORT: '0',
      TABLE_NAME: `lag-${randomUUID()}`,
      SWEEP_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    },
    quiet: true,
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as { status: string };
  };
  const lags: number[] = [];
  for (let i = 0; i < 3; i++) {
    const boundary = Date.now() + 3000 + i * 1700;
    await api('POST', '/v2/devices', { id: `lag-${i}`, dms_id: 'dms-lag' });
    await api('PUT', `/v2/devices/lag-${i}/idslot`, { certificate: await pem(new Date(boundary + 60 * DAY)) });
  }
  const pending = new Set([0, 1, 2]);
  const started = Date.now();
  // The boundary (ACTIVE → RENEWAL_PENDING) is the identity's expiry minus the default 60 days.
  const boundaryOf = new Map<number, number>();
  for (const i of pending) {
    const device = (await api('GET', `/v2/devices/lag-${i}`)) as unknown as { identity: { expiration_date: string } };
    boundaryOf.set(i, Date.parse(device.identity.expiration_date) - 60 * DAY);
  }
  while (pending.size > 0 && Date.now() - started < (INTERVAL_SECONDS + 30) * 1000) {
    for (const i of [...pending]) {
      const device = await api('GET', `/v2/devices/lag-${i}`);
      if (device.status === 'RENEWAL_PENDING') {
        lags.push((Date.now() - boundaryOf.get(i)!) / 1000);
        pending.delete(i);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await service.stop();
  printTable(
    `Boundary → persisted status in the local service (sweep interval ${INTERVAL_SECONDS} s; target ≤ interval + 10 s)`,
    ['device', 'lag s'],
    [...lags.map((l, i) => [`lag-${i}`, l] as (string | number)[]), ['not persisted in time', pending.size]],
  );
}

async function main() {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  if (process.env.BENCH_SWEEP_ONLY !== 'workers') await fleetSweeps();
  await workerScaling();
  if (process.env.BENCH_SWEEP_ONLY !== 'workers') await localLag();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
