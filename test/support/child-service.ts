/** The local service (local/main.ts) as a child process of its own, for crash tests and benchmarks. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { LOCAL_NODE_FLAGS } from '../../local/node-flags';

const ROOT = resolve(__dirname, '../..');

export interface ChildService {
  url: string;
  pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Sends a signal unless the process has already exited. */
  kill(signal: NodeJS.Signals): void;
  /** Its stdout lines and stderr chunks so far. */
  output: string[];
}

/**
 * Starts local/main.ts on a free port with `env` over this process's environment (IN_MEMORY,
 * DYNAMODB_ENDPOINT and AUTH_JWKS removed: a data folder, the embedded engine, no auth), and waits
 * for the line that gives its URL. `nodeFlags`: node's options, by default those of `npm start`.
 */
export async function spawnLocalService(
  env: Record<string, string>,
  nodeFlags: readonly string[] = LOCAL_NODE_FLAGS,
): Promise<ChildService> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', SWEEP_INTERVAL_SECONDS: '0' };
  delete childEnv.IN_MEMORY;
  delete childEnv.DYNAMODB_ENDPOINT;
  delete childEnv.AUTH_JWKS;
  Object.assign(childEnv, env);
  // `node --import tsx`, not the tsx CLI: the CLI runs the service in a child process of its own,
  // which a SIGKILL of the CLI would leave running. The heap settings are those of `npm start`.
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'local/main.ts'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const kill = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  try {
    const url = await new Promise<string>((found, failed) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        output.push(line);
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v2/.exec(line);
        if (match) found(match[1]!);
      });
      void exited.then((code) =>
        failed(new Error(`the service exited (${code}) before listening:\n${output.join('\n')}`)),
      );
    });
    return { url, pid: child.pid!, exited, kill, output };
  } catch (error) {
    kill('SIGKILL');
    throw error;
  }
}
