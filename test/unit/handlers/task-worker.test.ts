/** The job worker's Lambda handler: one task per SQS message, failures reported per message. */
import type { SQSEvent } from 'aws-lambda';
import type { Task } from '../../../functions/app/ports';
import type { TaskContext } from '../../../functions/app/tasks';
import { setJobWorker } from '../../../functions/composition/task-composition';
import { handler, taskOf } from '../../../functions/handlers/events/task-worker';

afterEach(() => setJobWorker(undefined));

const event = (...bodies: string[]): SQSEvent =>
  ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as unknown as SQSEvent;

describe('taskOf', () => {
  it('reads a JSON object with a string kind, and nothing else', () => {
    expect(taskOf('{"kind":"sweep.due","run":"r"}')).toEqual({ kind: 'sweep.due', run: 'r' });
    expect(taskOf('{"kind":3}')).toBeUndefined();
    expect(taskOf('[]')).toBeUndefined();
    expect(taskOf('not json')).toBeUndefined();
  });
});

describe('handler', () => {
  it('runs each task with the time budget and the queues, reports only the task that threw', async () => {
    const seen: [Task, TaskContext][] = [];
    const queues = { send: jest.fn() };
    setJobWorker({
      queues,
      worker: async (task, context) => {
        seen.push([task, context]);
        if (task.kind === 'boom') throw new Error('boom');
        return { due: 1 };
      },
    });
    const before = Date.now();
    const result = await handler(event('{"kind":"a"}', 'garbage', '{"kind":"boom"}', '{"kind":"b"}'), {
      getRemainingTimeInMillis: () => 60_000,
    });
    // The body that is no task is acknowledged (retrying cannot mend it); the throwing one comes back.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(seen.map(([task]) => task.kind)).toEqual(['a', 'boom', 'b']);
    for (const [, context] of seen) {
      expect(context.queue).toBe(queues);
      // 10 s of the remaining minute are kept for the last writes.
      expect(context.deadline).toBeGreaterThanOrEqual(before + 50_000);
      expect(context.deadline).toBeLessThanOrEqual(Date.now() + 50_000);
    }
  });
});
