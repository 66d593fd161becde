/**
 * A worker thread of the local service's server-side import (local/import-threads.ts): builds the
 * services over the same engine endpoint and table as the main thread, and runs the import pieces it
 * is given with the same task handler the job worker runs. The import's file is read through the
 * main thread, which keeps it (in memory with IN_MEMORY=true).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImportFiles, Task } from '../functions/app/ports';
import { taskRunner } from '../functions/app/tasks';
import { createServices, setServices } from '../functions/composition/composition';
import { importTaskHandlers, setImportFiles } from '../functions/composition/imports';
import { loadConfig } from '../functions/runtime/config';
import type { FromThread, ToThread } from './import-threads';

const port = parentPort!;
const { env } = workerData as { env: Record<string, string | undefined> };
setServices(createServices(loadConfig(env)));

let nextRead = 0;
const reads = new Map<number, (bytes: Uint8Array | null) => void>();
const files: ImportFiles = {
  uploadUrl: () => Promise.reject(new Error('not available on an import thread')),
  put: () => Promise.reject(new Error('not available on an import thread')),
  async read(key, start, end) {
    const id = nextRead++;
    const bytes = await new Promise<Uint8Array | null>((resolve) => {
      reads.set(id, resolve);
      port.postMessage({ type: 'read', id, key, start, end } satisfies FromThread);
    });
    if (!bytes) return undefined;
    return (async function* () {
      yield bytes;
    })();
  },
};
setImportFiles(files);
const run = taskRunner(importTaskHandlers());

port.on('message', (message: ToThread) => {
  if (message.type === 'bytes') {
    reads.get(message.id)?.(message.bytes);
    reads.delete(message.id);
    return;
  }
  const reply = (error?: string) => port.postMessage({ type: 'done', id: message.id, error } satisfies FromThread);
  run(message.task as Task, {
    deadline: message.deadline,
    // A piece sends no follow-up task (only the plan does, on the main thread).
    queue: { send: () => Promise.reject(new Error('an import piece sends no task')) },
    log: () => undefined,
  }).then(
    () => reply(),
    (error: unknown) => reply(error instanceof Error ? error.message : String(error)),
  );
});
port.postMessage({ type: 'ready' } satisfies FromThread);
