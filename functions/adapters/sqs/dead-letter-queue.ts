/**
 * DeadLetterQueue on SQS: one message per letter, the reason both in the body and as message
 * attributes (so a console or a redrive script can filter without parsing the body).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterQueue } from '../../app/ports';
import { sqsSdk } from './sdk';

/** SQS's message size limit (the smallest in use across regions). */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface SqsDeadLetterQueueOptions {
  client: SQSClient;
  queueUrl: string;
}

/**
 * The message body of a letter. One too large for SQS keeps everything but the event's `data`
 * (`data_omitted: true`): the outbox record, found by the event id, still holds it until its TTL.
 */
export function letterBody(letter: DeadLetter): string {
  const body = JSON.stringify(letter);
  if (Buffer.byteLength(body, 'utf8') <= MAX_MESSAGE_BYTES || !letter.event) return body;
  const { data: _data, ...event } = letter.event;
  return JSON.stringify({
    ...letter,
    event: { ...event, data_omitted: true },
    record: letter.record ? { position: letter.record.position } : undefined,
  });
}

export function sqsDeadLetterQueue({ client, queueUrl }: SqsDeadLetterQueueOptions): DeadLetterQueue {
  return {
    async send(letter) {
      await client.send(
        new (sqsSdk().SendMessageCommand)({
          QueueUrl: queueUrl,
          MessageBody: letterBody(letter),
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: letter.reason.code },
            ...(letter.event
              ? {
                  event_id: { DataType: 'String', StringValue: letter.event.id },
                  event_type: { DataType: 'String', StringValue: letter.event.type },
                }
              : {}),
          },
        }),
      );
    },
  };
}
