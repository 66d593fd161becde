import type { Device } from '../../../functions/domain/device';
import { ValidationError } from '../../../functions/domain/errors';
import {
  canonicalJson,
  foldForecast,
  forecastEntries,
  indexedKeysProblem,
  metadataValue,
  parseForecastQuery,
  textsMatching,
} from '../../../functions/domain/insights';

const device = (over: Partial<Device>): Device => ({
  id: 'd',
  tags: [],
  status: 'ACTIVE',
  icon: '',
  icon_color: '',
  creation_timestamp: '2026-01-01T00:00:00.000Z',
  metadata: {},
  dms_owner: 'dms',
  slots: {},
  events: {},
  version: 1,
  ...over,
});
const slot = (status: 'ACTIVE' | 'REVOKED' | 'EXPIRED', expiration_date?: string) => ({
  status,
  active_version: 1,
  type: 'x509' as const,
  secrets: {},
  expiration_date,
  events: {},
});

describe('metadata values', () => {
  it('compares values as JSON texts with sorted object keys', () => {
    expect(canonicalJson({ b: [1, { d: true, c: null }], a: '1.4.2' })).toBe(
      '{"a":"1.4.2","b":[1,{"c":null,"d":true}]}',
    );
    expect(textsMatching('1.4.2')).toEqual(['"1.4.2"']);
    expect(textsMatching('3')).toEqual(['"3"', '3']);
    expect(textsMatching('{"b":1,"a":2}')).toEqual(['"{\\"b\\":1,\\"a\\":2}"', '{"a":2,"b":1}']);
  });

  it('reads own keys only along a dotted path', () => {
    expect(metadataValue({ site: { building: 'A' } }, 'site.building')).toBe('A');
    expect(metadataValue({ site: 'A' }, 'site.building')).toBeUndefined();
    expect(metadataValue({}, 'toString')).toBeUndefined();
    expect(metadataValue({ a: [1] }, 'a.length')).toBeUndefined();
  });

  it('accepts at most 10 distinct dotted paths', () => {
    expect(indexedKeysProblem(['fw', 'site.building'])).toBeUndefined();
    expect(indexedKeysProblem(Array.from({ length: 11 }, (_, i) => `k${i}`))).toMatch(/at most 10/);
    expect(indexedKeysProblem(['a,b'])).toMatch(/not a dotted path/);
    expect(indexedKeysProblem(['a', 'a'])).toMatch(/repeat/);
  });
});

describe('expiry forecast', () => {
  it('counts the active identity and extra slots, nothing of a decommissioned device or a revoked slot', () => {
    const d = device({
      identity: slot('EXPIRED', '2026-03-01T10:00:00Z'),
      slots: {
        a: slot('ACTIVE', '2026-04-02T00:00:00Z'),
        b: slot('REVOKED', '2026-05-01T00:00:00Z'),
        c: slot('ACTIVE'),
      },
    });
    expect(forecastEntries(d)).toEqual([
      { day: '2026-03-01', kind: 'identity' },
      { day: '2026-04-02', kind: 'slots' },
    ]);
    expect(forecastEntries({ ...d, status: 'DECOMMISSIONED' })).toEqual([]);
  });

  it('folds days into weeks starting on Monday, the first from today, the last ending at the horizon', () => {
    const days = new Map([
      ['2026-03-10', { identity: 2, slots: 0 }],
      ['2026-03-18', { identity: 1, slots: 1 }],
      ['2026-03-23', { identity: 5, slots: 0 }],
      ['2026-04-01', { identity: 7, slots: 0 }],
    ]);
    // 2026-03-18 is a Wednesday.
    const f = foldForecast(days, { bucket: 'week', horizonDays: 10 }, new Date('2026-03-18T15:30:00.123Z'));
    expect(f).toEqual({
      generated_at: '2026-03-18T15:30:00Z',
      bucket: 'week',
      already_expired: 2,
      buckets: [
        { start: '2026-03-18T00:00:00Z', end: '2026-03-23T00:00:00Z', identity: 1, slots: 1 },
        { start: '2026-03-23T00:00:00Z', end: '2026-03-28T00:00:00Z', identity: 5, slots: 0 },
      ],
    });
    const months = foldForecast(days, { bucket: 'month', horizonDays: 20 }, new Date('2026-03-18T00:00:00Z'));
    expect(months.buckets.map((b) => [b.start, b.end, b.identity])).toEqual([
      ['2026-03-18T00:00:00Z', '2026-04-01T00:00:00Z', 6],
      ['2026-04-01T00:00:00Z', '2026-04-07T00:00:00Z', 7],
    ]);
    expect(
      foldForecast(days, { bucket: 'day', horizonDays: 3 }, new Date('2026-03-18T00:00:00Z')).buckets,
    ).toHaveLength(3);
  });

  it('parses the query with defaults and rejects what it does not accept', () => {
    expect(parseForecastQuery(new URLSearchParams(''))).toEqual({ bucket: 'week', horizonDays: 90, dms: undefined });
    expect(parseForecastQuery(new URLSearchParams('bucket=day&horizon_days=730&filter=dms_owner[eq]dms-1'))).toEqual({
      bucket: 'day',
      horizonDays: 730,
      dms: 'dms-1',
    });
    for (const q of [
      'bucket=year',
      'horizon_days=0',
      'horizon_days=731',
      'horizon_days=1.5',
      'filter=tags[ct]x',
      'filter=dms_owner[eq]a&filter=dms_owner[eq]b',
    ]) {
      expect(() => parseForecastQuery(new URLSearchParams(q))).toThrow(ValidationError);
    }
  });
});
