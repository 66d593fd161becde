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
import { jobs } from './jobs';
import { sweepDeps } from './sweep';
import { loadTaskQueueConfig } from '../runtime/config';

let queues: TaskQueue | undefined;
/** The local service's in-process queues (there is no local SQS). */
let installedQueues: TaskQueue | undefined;

/** Transition tasks to the sweep queue, every other kind to the job queue. */
export function taskQueues(): TaskQueue {
  if (installedQueues) return installedQueues;
  if (queues) return queues;
  const config = loadTaskQueueConfig();
  const client = createSqsClient({ region: config.region, endpoint: config.sqsEndpoint });
  const sweep = sqsTaskQueue({ client, queueUrl: config.sweepQueueUrl });
  const jobs = sqsTaskQueue({ client, queueUrl: config.jobQueueUrl });
  queues = routedQueue((task) => (isTransitionTask(task) ? sweep : jobs));
  return queues;
}

let worker: TaskHandler | undefined;

/** Every task kind the worker runs, over the current capabilities. A new kind of job adds its handlers here. */
export function createJobWorker(): TaskHandler {
  return taskRunner({ ...sweepHandlers(sweepDeps()), ...jobs().handlers() });
}

/** The process-wide worker (built once per cold start). */
export function jobWorker(): TaskHandler {
  worker ??= createJobWorker();
  return worker;
}

/** Local-service hook: where tasks go in this process (undefined: the SQS queues of the environment). */
export function setTaskQueues(next: TaskQueue | undefined): void {
  installedQueues = next;
}

/** Test hook: the worker and queues to use (undefined: built from the environment again). */
export function setJobWorker(next?: { worker: TaskHandler; queues: TaskQueue }): void {
  worker = next?.worker;
  queues = next?.queues;
}
