/**
 * TaskQueue on SQS: tasks as JSON message bodies, ten per SendMessageBatch. Entries SQS did not take
 * are sent again (a few rounds); if some still fail the call throws, so the sender's own message is
 * retried rather than its follow-up lost.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Task, TaskQueue } from '../../app/ports';
import { sqsSdk } from './sdk';

/** SendMessageBatch takes at most ten entries. */
const BATCH = 10;
const ROUNDS = 4;

export function sqsTaskQueue({ client, queueUrl }: { client: SQSClient; queueUrl: string }): TaskQueue {
  return {
    async send(tasks: readonly Task[]) {
      const { SendMessageBatchCommand } = sqsSdk();
      for (let start = 0; start < tasks.length; start += BATCH) {
        let entries = tasks
          .slice(start, start + BATCH)
          .map((task, i) => ({ Id: String(start + i), MessageBody: JSON.stringify(task) }));
        for (let round = 0; entries.length > 0; round++) {
          const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
          const failed = out.Failed ?? [];
          const fatal = failed.find((f) => f.SenderFault);
          if (fatal || (failed.length > 0 && round + 1 >= ROUNDS))
            throw new Error(`SQS refused ${failed.length} task(s): ${(fatal ?? failed[0])?.Code ?? 'unknown'}`);
          const retry = new Set(failed.map((f) => f.Id));
          entries = entries.filter((e) => retry.has(e.Id));
        }
      }
    },
  };
}
