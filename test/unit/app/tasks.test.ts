/** The job worker's pieces: the kind registry, routing by kind, and the bounded in-process queue. */
import type { Task, TaskQueue } from '../../../functions/app/ports';
import { addCounts, allIdle, inProcessQueue, routedQueue, taskRunner } from '../../../functions/app/tasks';

const context = (log = jest.fn()) => ({ deadline: Date.now() + 60_000, queue: { send: jest.fn() }, log });

describe('taskRunner', () => {
  it('runs the handler of the task kind with the task and the context', async () => {
    const seen: Task[] = [];
    const run = taskRunner({ a: async (task) => (seen.push(task), { done: 1 }), b: async () => ({ other: 1 }) });
    expect(await run({ kind: 'a', n: 1 }, context())).toEqual({ done: 1 });
    expect(seen).toEqual([{ kind: 'a', n: 1 }]);
  });

  it('drops a kind nobody handles, counted and logged, without throwing (a retry cannot mend it)', async () => {
    const log = jest.fn();
    const run = taskRunner({ a: async () => ({}) });
    expect(await run({ kind: 'toString' }, context(log))).toEqual({ unknownKind: 1 });
    expect(log).toHaveBeenCalledWith('task of an unknown kind dropped', { kind: 'toString' });
  });
});

describe('addCounts', () => {
  it('sums counts by name', () => {
    const totals = { a: 1 };
    addCounts(totals, { a: 2, b: 3 });
    expect(totals).toEqual({ a: 3, b: 3 });
  });
});

describe('routedQueue', () => {
  it('sends each task to the queue of its kind, one call per queue', async () => {
    const sent = new Map<string, Task[][]>();
    const queue = (name: string): TaskQueue => ({
      send: async (tasks) => void sent.set(name, [...(sent.get(name) ?? []), [...tasks]]),
    });
    const [x, y] = [queue('x'), queue('y')];
    await routedQueue((t) => (t.kind === 'due' ? x : y)).send([
      { kind: 'due', i: 1 },
      { kind: 'job', i: 2 },
      { kind: 'due', i: 3 },
    ]);
    expect(sent.get('x')).toEqual([
      [
        { kind: 'due', i: 1 },
        { kind: 'due', i: 3 },
      ],
    ]);
    expect(sent.get('y')).toEqual([[{ kind: 'job', i: 2 }]]);
  });
});

describe('inProcessQueue', () => {
  it('runs at most its concurrency at once, runs tasks sent by tasks, and is idle at the end', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const queue = inProcessQueue({
      concurrency: 3,
      run: async (task) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        const n = task.n as number;
        // Every task below 10 sends a follow-up: a chain spreading over the workers.
        if (n < 10) await queue.send([{ kind: 't', n: n + 10 }]);
        done.push(n);
        running--;
      },
      onError: () => undefined,
    });
    await queue.send(Array.from({ length: 10 }, (_, n) => ({ kind: 't', n })));
    await allIdle([queue]);
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(queue.isIdle).toBe(true);
  });

  it('reports a task that throws and goes on with the others', async () => {
    const errors: unknown[] = [];
    const done: number[] = [];
    const queue = inProcessQueue({
      concurrency: 1,
      run: async (task) => {
        if (task.n === 1) throw new Error('boom');
        done.push(task.n as number);
      },
      onError: (task, error) => errors.push([task.n, (error as Error).message]),
    });
    await queue.send([0, 1, 2].map((n) => ({ kind: 't', n })));
    await queue.idle();
    expect(done).toEqual([0, 2]);
    expect(errors).toEqual([[1, 'boom']]);
  });

  it('is idle at once when nothing was sent', async () => {
    const queue = inProcessQueue({ concurrency: 1, run: async () => undefined, onError: () => undefined });
    await expect(queue.idle()).resolves.toBeUndefined();
  });
});
