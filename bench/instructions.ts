/**
 * Instructions counted by valgrind's cachegrind, shared by bench:bundles and bench:deployed: the one cold-start
 * figure that the machine's load does not move (CPU time on a shared machine moves by ±0.2 of the baseline
 * between runs, a count by about ±0.02). Each bench counts a whole process (Node's start, the bundle's init,
 * the exit) and subtracts an empty process of the same kind, so the ratio is the bundle's own work.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fmt, inParallel, percentile } from './support';

/** valgrind's arguments before the program: instructions only (no cache simulation, no output file). */
export const CACHEGRIND = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null'];

export const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** The instruction total of cachegrind's summary (every thread of the process). */
export function instructionsOf(stderr: string, error?: string): number {
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr);
  if (!refs) throw new Error(`counting instructions needs valgrind: ${error ?? stderr.slice(-2000)}`);
  return Number(refs[1]!.replaceAll(',', ''));
}

interface Run {
  /** The program and its arguments, run under valgrind. */
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Instructions of one process, counted synchronously. */
export function instructions({ command, env, cwd }: Run): number {
  const run = spawnSync('valgrind', [...CACHEGRIND, ...command], { env, cwd, encoding: 'utf8' });
  return instructionsOf(run.stderr ?? '', run.error?.message);
}

/** The same, in a child process run beside others (BENCH_JOBS counts in parallel). */
export function instructionsAsync({ command, env, cwd }: Run): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', [...CACHEGRIND, ...command], { env, cwd });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(instructionsOf(stderr));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The empty process's count and the baseline's own (the empty process's subtracted). */
export interface InstructionBaseline {
  empty: number;
  base: number;
}

/**
 * The empty process and the baseline, counted three times each (BENCH_JOBS at a time): every ratio of a table
 * shares these two counts, so each is a median, and one count's variation (about 1%) does not move the table.
 */
export async function instructionBaseline(
  count: (which: 'empty' | 'baseline') => Promise<number>,
  jobs: number,
): Promise<InstructionBaseline> {
  const counts = { empty: [] as number[], baseline: [] as number[] };
  const order = ['empty', 'baseline', 'empty', 'baseline', 'empty', 'baseline'] as const;
  await inParallel([...order], jobs, async (which) => {
    counts[which].push(await count(which));
  });
  const empty = median(counts.empty);
  return { empty, base: median(counts.baseline) - empty };
}

/**
 * Instruction ratios to the baseline of every item (e.g. a function, or a function with tracing on), counted
 * BENCH_JOBS at a time; progress on stderr (a table takes minutes).
 */
export async function countedAll<T>(
  items: Map<string, T>,
  count: (item: T) => Promise<number>,
  { empty, base }: InstructionBaseline,
  jobs: number,
): Promise<Map<string, number>> {
  const ratios = new Map<string, number>();
  await inParallel([...items], jobs, async ([name, item]) => {
    ratios.set(name, ((await count(item)) - empty) / base);
    process.stderr.write(`${name}: instructions ${fmt(ratios.get(name)!)}×\n`);
  });
  return ratios;
}
