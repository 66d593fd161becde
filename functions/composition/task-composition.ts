/**
 * The composition root of the background jobs (docs/architecture.md, Background jobs): the task
 * queues on SQS, routed by kind, and the job worker with every registered kind. The sweep dispatcher
 * and the worker function use it; locally app/sweep.ts runs the same handlers in process.
 */
import { isTransitionTask, sweepHandlers } from '../app/sweep';
import type { TaskQueue } from '../app/ports';
import { routedQueue, type TaskHandler, taskRunner } from '../app/tasks';
import { createSqsClient } from '../adapters/sqs/client';
import { sqsTaskQueue } from '../adapters/sqs/task-queue';
import { sweepDeps } from './sweep';
import { importTaskHandlers } from './imports';
import { loadTaskQueueConfig } from '../runtime/config';

let queues: TaskQueue | undefined;

/** Transition tasks to the sweep queue, every other kind to the job queue. */
export function taskQueues(): TaskQueue {
  if (queues) return queues;
  const config = loadTaskQueueConfig();
  const client = createSqsClient({ region: config.region, endpoint: config.sqsEndpoint });
  const sweep = sqsTaskQueue({ client, queueUrl: config.sweepQueueUrl });
  const jobs = sqsTaskQueue({ client, queueUrl: config.jobQueueUrl });
  queues = routedQueue((task) => (isTransitionTask(task) ? sweep : jobs));
  return queues;
}

let worker: TaskHandler | undefined;

/** Every task kind the worker runs. A new kind of background job adds its handlers here. */
export function jobWorker(): TaskHandler {
  worker ??= taskRunner({ ...sweepHandlers(sweepDeps()), ...importTaskHandlers() });
  return worker;
}

/** Test hook: the worker and queues to use (undefined: built from the environment again). */
export function setJobWorker(next?: { worker: TaskHandler; queues: TaskQueue }): void {
  worker = next?.worker;
  queues = next?.queues;
}
