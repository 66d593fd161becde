/**
 * `stats` and `forecast` rendering from contract-shaped answers (docs/api.md, Endpoints and Fleet insights), and
 * progress lines.
 */
import { formatDuration, progressLine, rateAndEta } from '../../../cli/progress';
import { renderForecast, renderStats } from '../../../cli/tables';

describe('tables', () => {
  it('stats: every status, zeros included, with shares and the total', () => {
    const text = renderStats({
      total: 8,
      status_distribution: {
        NO_IDENTITY: 2,
        ACTIVE: 4,
        RENEWAL_PENDING: 1,
        EXPIRING_SOON: 0,
        EXPIRED: 0,
        REVOKED: 1,
        DECOMMISSIONED: 0,
      },
    });
    expect(text.split('\n')).toEqual([
      'status           devices      %',
      'NO_IDENTITY            2   25.0',
      'ACTIVE                 4   50.0',
      'RENEWAL_PENDING        1   12.5',
      'EXPIRING_SOON          0    0.0',
      'EXPIRED                0    0.0',
      'REVOKED                1   12.5',
      'DECOMMISSIONED         0    0.0',
      'total                  8  100.0',
    ]);
  });

  it('forecast: one row per bucket (dates at midnight shown as days), already expired and totals', () => {
    const text = renderForecast({
      generated_at: '2026-12-02T08:00:00Z',
      bucket: 'week',
      already_expired: 3,
      buckets: [
        { start: '2026-11-30T00:00:00Z', end: '2026-12-07T00:00:00Z', identity: 12, slots: 1 },
        { start: '2026-12-07T00:00:00.000Z', end: '2026-12-14T00:00:00.000Z', identity: 0, slots: 140 },
      ],
    });
    expect(text.split('\n')).toEqual([
      'expirations by week (generated 2026-12-02T08:00:00Z)',
      'already expired: 3',
      'from        until       identity  slots  total',
      '2026-11-30  2026-12-07        12      1     13',
      '2026-12-07  2026-12-14         0    140    140',
      'total                         12    141    153',
    ]);
  });
});

describe('progress', () => {
  it('rate and ETA from the fraction of the file read', () => {
    expect(rateAndEta(500, 0.25, 10)).toEqual({ rate: 50, eta: 30 });
    expect(rateAndEta(500, undefined, 10)).toEqual({ rate: 50 });
    expect(progressLine('import', { done: 500, fraction: 0.25, detail: 'created 500' }, 10)).toBe(
      'import: 500 (25%) 50/s ETA 30s | created 500',
    );
    expect([formatDuration(65), formatDuration(7385), formatDuration(Infinity)]).toEqual(['1m 05s', '2h 03m', '?']);
  });
});
