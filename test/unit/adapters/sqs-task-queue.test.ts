/** TaskQueue on SQS, against the SDK boundary: batches of ten, exact parameters, retried failures. */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { sqsTaskQueue } from '../../../functions/adapters/sqs/task-queue';

const sqs = mockClient(SQSClient);
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks';
afterEach(() => sqs.reset());

describe('sqsTaskQueue', () => {
  it('sends tasks as JSON bodies, ten per SendMessageBatch, with ids unique across the call', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const tasks = Array.from({ length: 23 }, (_, n) => ({ kind: 'sweep.due', n }));
    await sqsTaskQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE }).send(tasks);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    expect(calls.every((c) => c.QueueUrl === QUEUE)).toBe(true);
    expect(calls.flatMap((c) => c.Entries!)).toEqual(
      tasks.map((task, n) => ({ Id: String(n), MessageBody: JSON.stringify(task) })),
    );
  });

  it('sends again only the entries SQS did not take', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] })
      .resolves({ Failed: [] });
    await sqsTaskQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE }).send([
      { kind: 'a' },
      { kind: 'b' },
    ]);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries);
    expect(calls).toEqual([
      [
        { Id: '0', MessageBody: '{"kind":"a"}' },
        { Id: '1', MessageBody: '{"kind":"b"}' },
      ],
      [{ Id: '1', MessageBody: '{"kind":"b"}' }],
    ]);
  });

  it('throws on a sender fault (retrying cannot help) and after four rounds of failures', async () => {
    const queue = sqsTaskQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE });
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: '0', Code: 'InvalidMessageContents', SenderFault: true }] });
    await expect(queue.send([{ kind: 'a' }])).rejects.toThrow(/InvalidMessageContents/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
    await expect(queue.send([{ kind: 'a' }])).rejects.toThrow(/InternalError/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
  });
});
