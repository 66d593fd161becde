/**
 * The job worker in this process (docs/architecture.md, Background jobs): tasks sent by the routes
 * (a remediation job's first task) and by tasks themselves run on an in-process queue bounded like the
 * deployed jobs queue (JOB_WORKERS). A task stops starting work after `taskSeconds` and sends its
 * continuation, as a deployed one does at its timeout; on stop, queued tasks are dropped (their jobs
 * keep their progress and are resumed at the next start).
 */
import type { TaskQueue } from '../functions/app/ports';
import { inProcessQueue } from '../functions/app/tasks';
import { createJobWorker, setTaskQueues } from '../functions/composition/task-composition';
import { IMPORT_TASKS } from '../functions/app/imports';
import type { ImportThreads } from './import-threads';

export interface LocalTasks {
  queue: TaskQueue;
  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startLocalTasks({
  concurrency,
  taskSeconds = 10,
  say,
  importThreads,
}: {
  concurrency: number;
  taskSeconds?: number;
  say: (line: string) => void;
  /** Where import pieces run, if not on this thread (IMPORT_THREADS). */
  importThreads?: ImportThreads;
}): LocalTasks {
  let stopped = false;
  // Built over the services this start installed (a restart in the same process gets its own).
  const worker = createJobWorker();
  const queue = inProcessQueue({
    concurrency,
    run: async (task) => {
      if (stopped) return;
      if (importThreads && task.kind === IMPORT_TASKS.piece)
        return importThreads.run(task, Date.now() + taskSeconds * 1000);
      await worker(task, {
        deadline: Date.now() + taskSeconds * 1000,
        queue,
        log: (message, detail) => say(`${message} ${JSON.stringify(detail)}`),
      });
    },
    onError: (task, error) =>
      say(
        `task ${task.kind} failed: ${error instanceof Error ? error.message : String(error)} (resumed at next start)`,
      ),
  });
  setTaskQueues(queue);
  return {
    queue,
    idle: () => queue.idle(),
    async stop() {
      stopped = true;
      setTaskQueues(undefined);
      await queue.idle();
    },
  };
}
