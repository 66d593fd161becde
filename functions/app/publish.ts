/**
 * The outbox publisher (docs/api.md, Events on EventBridge): turns outbox records, read from the table's stream in
 * commit
 * order, into CloudEvents on the bus. At-least-once and never lost: an event is either on the bus,
 * or in the dead-letter queue with the reason, or reported back so the stream delivers it again.
 */
import { fullJitter, type RetryPolicy } from '../domain/backoff';
import type { OutboxEvent } from '../domain/outbox';
import type { CloudEvent, DeadLetter, DeadLetterQueue, EventPublisher } from './ports';

/** One record of the stream batch, in stream order. */
export interface OutboxRecord {
  /** The record's stream position (sequence number): failures are reported by it. */
  position: string;
  event?: OutboxEvent;
  /** The events of a record written for several changes at once, in commit order (published as if one a record). */
  events?: readonly OutboxEvent[];
  /** Set when the record is not a readable outbox event (a poison record): it goes to the dead-letter queue. */
  malformed?: { message: string; raw: unknown };
}

export interface PublishReport {
  /** Events the bus accepted. */
  published: number;
  /** Events (or malformed records) handed to the dead-letter queue. */
  deadLettered: number;
  /** Entries sent to the bus, retries included. */
  sent: number;
  /** Entries sent again after a retryable failure. */
  retries: number;
  /**
   * Positions of the records that are neither published nor dead-lettered (the dead-letter queue
   * itself failed): the stream must deliver them again. Everything after the first of them is
   * included, since the stream resumes from the lowest failed position anyway.
   */
  failed: string[];
}

/** `attempts`: sends of one entry, the first included. */
export const DEFAULT_PUBLISH_RETRY: RetryPolicy = { attempts: 6, baseMs: 50, capMs: 2000 };

/** EventBridge takes at most 10 entries per PutEvents. */
export const MAX_ENTRIES_PER_REQUEST = 10;

export interface OutboxPublisherDeps {
  bus: EventPublisher;
  deadLetters: DeadLetterQueue;
  /** CloudEvents `source` and the bus entries' `Source`. */
  source: string;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: (message: string, detail: Record<string, unknown>) => void;
  /** Further events derived from a record, published after it (Lamassu-typed events). */
  derive?: (event: OutboxEvent) => CloudEvent[];
}

export type OutboxPublisher = ReturnType<typeof outboxPublisher>;

/** The CloudEvents 1.0 envelope of an outbox event; its `id` is the outbox event's, stable across redeliveries. */
export function toCloudEvent(event: OutboxEvent, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: event.id,
    source,
    type: event.type,
    subject: event.subject,
    time: event.time,
    datacontenttype: 'application/json',
    data: event.data,
  };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Pending {
  position: string;
  event: CloudEvent;
}

export function outboxPublisher({
  bus,
  deadLetters,
  source,
  retry = DEFAULT_PUBLISH_RETRY,
  sleep = defaultSleep,
  random = Math.random,
  log = () => undefined,
  derive,
}: OutboxPublisherDeps) {
  return {
    /**
     * Publishes the records' events in stream order. A request holds at most one event per subject
     * and never passes an earlier, unfinished event of the same subject, so each device's events
     * reach the bus in commit order even when entries fail and are retried. Only failed entries
     * with a retryable code are sent again (bounded, with backoff); permanent failures and
     * exhausted retries go to the dead-letter queue with the reason.
     */
    async publish(records: readonly OutboxRecord[]): Promise<PublishReport> {
      const report: PublishReport = { published: 0, deadLettered: 0, sent: 0, retries: 0, failed: [] };
      const done = new Set<string>();
      // A record is done once every event it yields is published or dead-lettered.
      const open = new Map<string, number>();
      const finish = (position: string) => {
        const left = (open.get(position) ?? 1) - 1;
        open.set(position, left);
        if (left <= 0) done.add(position);
      };

      const deadLetter = async (position: string, letter: DeadLetter): Promise<boolean> => {
        try {
          await deadLetters.send(letter);
          report.deadLettered++;
          log('publish: dead-lettered', {
            position,
            eventId: letter.event?.id,
            type: letter.event?.type,
            ...letter.reason,
          });
          return true;
        } catch (error) {
          log('publish: the dead-letter queue failed; the record will be delivered again', {
            position,
            eventId: letter.event?.id,
            error: error instanceof Error ? error.message : String(error),
          });
          return false;
        }
      };

      const halt = () => {
        report.failed = records.map((r) => r.position).filter((p) => !done.has(p));
        return report;
      };

      const queue: Pending[] = [];
      for (const record of records) {
        const outbox = record.events ?? (record.event ? [record.event] : []);
        if (outbox.length > 0) {
          const events = outbox.flatMap((e) => [toCloudEvent(e, source), ...(derive?.(e) ?? [])]);
          open.set(record.position, events.length);
          for (const event of events) queue.push({ position: record.position, event });
          continue;
        }
        const reason = {
          code: 'MalformedOutboxRecord',
          message: record.malformed?.message ?? 'no outbox event in the record',
          attempts: 0,
        };
        if (
          !(await deadLetter(record.position, {
            reason,
            record: { position: record.position, raw: record.malformed?.raw },
          }))
        )
          return halt();
        done.add(record.position);
      }

      while (queue.length > 0) {
        // The next request: in stream order, one event per subject, none overtaking its subject's earlier one.
        const subjects = new Set<string>();
        const request: Pending[] = [];
        for (const entry of queue) {
          if (request.length === MAX_ENTRIES_PER_REQUEST) break;
          if (subjects.has(entry.event.subject)) continue;
          subjects.add(entry.event.subject);
          request.push(entry);
        }
        for (const entry of request) queue.splice(queue.indexOf(entry), 1);

        let pending = request;
        for (let attempt = 1; pending.length > 0; attempt++) {
          report.sent += pending.length;
          const outcomes = await bus.publish(pending.map((p) => p.event));
          const again: Pending[] = [];
          for (const [i, entry] of pending.entries()) {
            const outcome = outcomes[i] ?? {
              ok: false as const,
              code: 'NoResult',
              message: 'the bus returned no result for this entry',
              retryable: true,
            };
            if (outcome.ok) {
              report.published++;
              finish(entry.position);
            } else if (outcome.retryable && attempt < retry.attempts) again.push(entry);
            else {
              const message = outcome.retryable
                ? `retries exhausted after ${attempt} attempts: ${outcome.message}`
                : outcome.message;
              if (
                !(await deadLetter(entry.position, {
                  reason: { code: outcome.code, message, attempts: attempt },
                  event: entry.event,
                  record: { position: entry.position },
                }))
              )
                return halt();
              finish(entry.position);
            }
          }
          if (again.length > 0) {
            report.retries += again.length;
            await sleep(fullJitter(retry, attempt - 1, random()));
          }
          pending = again;
        }
      }
      return report;
    },
  };
}
