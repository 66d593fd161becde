/**
 * The table stream's filter criteria (functions/adapters/dynamodb/stream-filters.ts), shared by the
 * stack's event source mappings and the local service's feeds: which records reach which consumer.
 */
import { matchesPattern } from '@device-manager/local-engine/stream-feed/event-pattern';
import { COUNTER_STREAM_FILTERS, OUTBOX_STREAM_FILTERS } from '../../../functions/adapters/dynamodb/stream-filters';

type Image = Record<string, { S: string }>;
const image = (pk: string, sk: string, kind: string): Image => ({ pk: { S: pk }, sk: { S: sk }, kind: { S: kind } });

/** A stream record as the mapping's filters see it. */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', before?: Image, after?: Image) {
  const keys = after ?? before!;
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { pk: keys.pk, sk: keys.sk },
      ...(after ? { NewImage: after } : {}),
      ...(before ? { OldImage: before } : {}),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const passes = (filters: readonly Record<string, unknown>[], r: Record<string, unknown>) =>
  filters.some((pattern) => matchesPattern(pattern, r));

const device = image('DEVICE#d1', 'DEVICE', 'device');
const connectivity = image('DEVICE#d1', 'CONNECTIVITY', 'connectivity');
const entry = image('DEVICE#d1', 'ENTRY#STATUS', 'entry');
const event = image('DEVICE#d1', 'EVENT#2026-12-07T00:00:00.000Z', 'event');
const marker = image('COUNTED#d1', '0000000000000000000000001', 'counted');
const outbox = image('OUTBOX#x', 'OUTBOX', 'outbox');

describe('table stream filter criteria', () => {
  it('give the counter applier device and connectivity items created, changed or deleted, and nothing else', () => {
    const counted = [
      record('INSERT', undefined, device),
      record('MODIFY', device, device),
      record('REMOVE', device, undefined),
      record('INSERT', undefined, connectivity),
      record('REMOVE', connectivity, undefined),
    ];
    const others = [entry, event, marker, outbox].map((item) => record('INSERT', undefined, item));
    expect(counted.map((r) => passes(COUNTER_STREAM_FILTERS, r))).toEqual([true, true, true, true, true]);
    expect(others.map((r) => passes(COUNTER_STREAM_FILTERS, r))).toEqual([false, false, false, false]);
  });

  it('give the outbox publisher new outbox records only (not their TTL deletion, not other items)', () => {
    expect(passes(OUTBOX_STREAM_FILTERS, record('INSERT', undefined, outbox))).toBe(true);
    expect(passes(OUTBOX_STREAM_FILTERS, record('REMOVE', outbox, undefined))).toBe(false);
    expect(passes(OUTBOX_STREAM_FILTERS, record('INSERT', undefined, device))).toBe(false);
    expect(passes(OUTBOX_STREAM_FILTERS, record('INSERT', undefined, marker))).toBe(false);
  });
});
