/**
 * The local event bus: an in-process EventPublisher that stands in for the stack's EventBridge bus.
 * Every entry becomes one EventBridge event (as a rule target would receive it), appended as one JSON
 * line to the events file and summarised on one console line; entries that match a local target (the
 * certificate intake, the IoT sync) are delivered to its Lambda handler, in order, one at a time.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { EventBridgeEvent } from 'aws-lambda';
import type { CloudEvent, EventPublisher } from '../functions/app/ports';

export const LOCAL_ACCOUNT = '000000000000';

export type BusEvent = EventBridgeEvent<string, unknown>;

/** A rule and its target. */
export interface LocalTarget {
  name: string;
  matches(event: BusEvent): boolean;
  deliver(event: BusEvent): Promise<unknown>;
}

export interface LocalEventSinkOptions {
  /** The events file (NDJSON); undefined = keep no file. */
  file?: string;
  region: string;
  targets?: LocalTarget[];
  say?: (line: string) => void;
}

/** A PutEvents entry from another producer (the `npm run event` injection). */
export interface PutEntry {
  source: string;
  'detail-type': string;
  detail: unknown;
  time?: string;
}

export interface Delivery {
  target: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface LocalEventSink extends EventPublisher {
  /** Puts an event on the bus and waits for its deliveries (the injection endpoint). */
  put(entry: PutEntry): Promise<{ id: string; deliveries: Delivery[] }>;
  /** Resolves when every delivery started so far has finished. */
  drain(): Promise<void>;
  /** Events put on the bus so far. */
  readonly count: number;
}

export function startLocalEventSink({
  file,
  region,
  targets = [],
  say = () => undefined,
}: LocalEventSinkOptions): LocalEventSink {
  if (file) mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  let count = 0;
  // One delivery chain per target keeps each target's events in bus order, like a FIFO in front of it.
  const chains = new Map<string, Promise<unknown>>();

  function record(source: string, detailType: string, detail: unknown, time: string): BusEvent {
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account: LOCAL_ACCOUNT,
      time,
      region,
      resources: [],
      detail,
    };
    count++;
    if (file) appendFileSync(file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
    const d = detail as Partial<CloudEvent> | undefined;
    say(`event ${detailType} ${d?.subject ?? ''} (id ${d?.id ?? event.id})`.replace(/\s+/g, ' '));
    return event;
  }

  function dispatch(event: BusEvent): Promise<Delivery>[] {
    return targets
      .filter((t) => t.matches(event))
      .map((target) => {
        const previous = chains.get(target.name) ?? Promise.resolve();
        const delivery = previous.then(async (): Promise<Delivery> => {
          try {
            return { target: target.name, ok: true, result: await target.deliver(event) };
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            say(`event ${event['detail-type']}: delivery to ${target.name} failed: ${message}`);
            return { target: target.name, ok: false, error: message };
          }
        });
        chains.set(target.name, delivery);
        return delivery;
      });
  }

  return {
    async publish(events) {
      for (const e of events) void dispatch(record(e.source, e.type, e, e.time));
      return events.map(() => ({ ok: true }) as const);
    },

    async put(entry) {
      const event = record(entry.source, entry['detail-type'], entry.detail, entry.time ?? new Date().toISOString());
      return { id: event.id, deliveries: await Promise.all(dispatch(event)) };
    },

    async drain() {
      // Deliveries may put more events (a revocation publishes device events): wait until quiet.
      for (;;) {
        const pending = [...chains.values()];
        await Promise.all(pending);
        if ([...chains.values()].every((c, i) => c === pending[i]) && chains.size === pending.length) return;
      }
    },

    get count() {
      return count;
    },
  };
}
