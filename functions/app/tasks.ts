/**
 * The job worker: background work cut into small tasks (JSON messages naming their `kind`), each
 * run by one worker until a deadline. A kind registers a handler; a handler may send follow-up tasks
 * (the next page of its walk, the rest of its range), so one large job spreads over every worker.
 * Deployed, tasks travel on SQS queues whose maximum concurrency bounds the workers; locally the same
 * handlers run behind an in-process queue with the same bound (docs/architecture.md, Background jobs).
 */
import type { Task, TaskQueue } from './ports';

export interface TaskContext {
  /** Epoch ms after which a handler starts nothing new; what is left resumes from a later task. */
  deadline: number;
  /** Where follow-up tasks go (routed by kind). */
  queue: TaskQueue;
  log: (message: string, detail: Record<string, unknown>) => void;
}

/** What a task did, as counts the caller sums (a sweep report, an import's progress). */
export type TaskCounts = Record<string, number>;

export type TaskHandler = (task: Task, context: TaskContext) => Promise<TaskCounts>;

/**
 * One handler for every registered kind. A kind nobody handles (a task sent by a newer or older
 * version of the code) is counted as `unknownKind` and dropped: retrying it cannot help.
 */
export function taskRunner(handlers: Readonly<Record<string, TaskHandler>>): TaskHandler {
  return async (task, context) => {
    const handler = Object.hasOwn(handlers, task.kind) ? handlers[task.kind] : undefined;
    if (handler) return handler(task, context);
    context.log('task of an unknown kind dropped', { kind: task.kind });
    return { unknownKind: 1 };
  };
}

/** Adds `counts` into `totals`. */
export function addCounts(totals: TaskCounts, counts: TaskCounts): void {
  for (const [name, n] of Object.entries(counts)) totals[name] = (totals[name] ?? 0) + n;
}

/** Sends each task to the queue of its kind (each kind's queue has its own concurrency bound). */
export function routedQueue(route: (task: Task) => TaskQueue): TaskQueue {
  return {
    async send(tasks) {
      const groups = new Map<TaskQueue, Task[]>();
      for (const task of tasks) {
        const queue = route(task);
        groups.set(queue, [...(groups.get(queue) ?? []), task]);
      }
      await Promise.all([...groups].map(([queue, group]) => queue.send(group)));
    },
  };
}

export interface InProcessQueue extends TaskQueue {
  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void>;
  readonly isIdle: boolean;
}

/**
 * At most `concurrency` tasks running at once, in arrival order: the local stand-in for an SQS queue
 * with maximum concurrency. A task that throws is reported to `onError` and dropped, like a message
 * that reached its dead-letter queue; the work it held is found again by the next dispatch.
 */
export function inProcessQueue({
  concurrency,
  run,
  onError,
}: {
  concurrency: number;
  run: (task: Task) => Promise<void>;
  onError: (task: Task, error: unknown) => void;
}): InProcessQueue {
  const waiting: Task[] = [];
  let running = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    if (running > 0 || waiting.length > 0) return;
    const resolved = waiters;
    waiters = [];
    for (const resolve of resolved) resolve();
  };
  const pump = () => {
    while (running < concurrency && waiting.length > 0) {
      const task = waiting.shift()!;
      running++;
      void run(task)
        .catch((error: unknown) => onError(task, error))
        .finally(() => {
          running--;
          pump();
          settle();
        });
    }
  };
  return {
    async send(tasks) {
      waiting.push(...tasks);
      pump();
    },
    idle: () => (running === 0 && waiting.length === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    get isIdle() {
      return running === 0 && waiting.length === 0;
    },
  };
}

/** Waits until every queue is idle at the same moment (a task on one may send to another). */
export async function allIdle(queues: readonly InProcessQueue[]): Promise<void> {
  do await Promise.all(queues.map((q) => q.idle()));
  while (!queues.every((q) => q.isIdle));
}
