/**
 * Server-side import pieces on worker threads (IMPORT_THREADS, default 0: every piece on the job
 * worker of the main thread). The engine stays on the main thread; a thread parses its piece, builds
 * the devices' transactions and marshals them for the SDK, the work that does not need the engine, so
 * that an import uses a second core (docs/cli.md, Server-side import). The pieces, their idempotence
 * markers and the per-row report are the same whichever thread runs them.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImportFiles, Task } from '../functions/app/ports';

export type ToThread =
  | { type: 'task'; id: number; task: Task; deadline: number }
  | { type: 'bytes'; id: number; bytes: Uint8Array | null };
export type FromThread =
  | { type: 'ready' }
  | { type: 'done'; id: number; error?: string }
  | { type: 'read'; id: number; key: string; start?: number; end?: number };

export interface ImportThreads {
  /** Runs an import piece on the thread with the fewest pieces in flight. */
  run(task: Task, deadline: number): Promise<void>;
  stop(): Promise<void>;
}

async function bytesOf(read: ReturnType<ImportFiles['read']>): Promise<Uint8Array | null> {
  const stream = await read;
  if (!stream) return null;
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

/** A thread running import-thread.ts, compiled by tsx as this process is (`npm start`) when run from source. */
function threadOf(workerData: unknown): Worker {
  const file = path.join(__dirname, `import-thread${path.extname(__filename)}`);
  // This process's environment as it is now (the engine's local credentials included), not as it started.
  const options = { workerData, env: { ...process.env } };
  if (!file.endsWith('.ts')) return new Worker(file, options);
  const source = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`;
  return new Worker(source, { ...options, eval: true });
}

export async function startImportThreads({
  count,
  env,
  files,
}: {
  count: number;
  env: Record<string, string | undefined>;
  files: ImportFiles;
}): Promise<ImportThreads> {
  let nextId = 0;
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const threads = await Promise.all(
    Array.from({ length: count }, async () => {
      const worker = threadOf({ env: { ...env } });
      const thread: { worker: Worker; inFlight: number; dead?: Error } = { worker, inFlight: 0 };
      worker.on('message', (message: FromThread) => {
        if (message.type === 'read')
          void bytesOf(files.read(message.key, message.start, message.end)).then(
            (bytes) => worker.postMessage({ type: 'bytes', id: message.id, bytes } satisfies ToThread),
            () => worker.postMessage({ type: 'bytes', id: message.id, bytes: null } satisfies ToThread),
          );
        else if (message.type === 'done') {
          const waiter = pending.get(message.id);
          pending.delete(message.id);
          if (message.error === undefined) waiter?.resolve();
          else waiter?.reject(new Error(message.error));
        }
      });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      // A thread that dies fails the pieces it held: their tasks report the error, and a restart resumes them.
      const fail = (error: Error) => {
        thread.dead = error;
        for (const [, waiter] of pending) waiter.reject(error);
        pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`import thread exited (${code})`)));
      return thread;
    }),
  );
  return {
    async run(task, deadline) {
      const thread = threads.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      if (thread.dead) throw thread.dead;
      const id = nextId++;
      thread.inFlight++;
      try {
        await new Promise<void>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          thread.worker.postMessage({ type: 'task', id, task, deadline } satisfies ToThread);
        });
      } finally {
        thread.inFlight--;
      }
    },
    async stop() {
      await Promise.all(threads.map(({ worker }) => worker.removeAllListeners('exit').terminate()));
    },
  };
}
