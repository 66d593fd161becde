/** Running the device-manager CLI in tests: in this process (fast), or as the real bin in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { run } from '../../cli/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `device-manager <args>` in-process, with `env` as its environment (no TTY: plain progress). */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await run(args, { stdout, stderr, env: { ...env } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export const BIN = path.resolve(__dirname, '../../cli/device-manager.cjs');

/** Starts the real bin (`node cli/device-manager.cjs <args>`) in a child process. */
export function spawnBin(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The outcome counts of an import summary printed on stdout. */
export function summaryCounts(stdout: string): Record<string, number> {
  return Object.fromEntries(
    [...stdout.matchAll(/^ {2}(created|unchanged|updated|conflict|invalid|failed)\s+(\d+)$/gm)].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );
}
