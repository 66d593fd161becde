/** A device's findings (domain/findings.ts): open times kept, events for what opens and resolves, the defaults. */
import { findingEvents, openChecks, slotFindings, sortFindings } from '../../../functions/domain/findings';
import { DEFAULT_POSTURE_POLICY, posturePolicySchema } from '../../../functions/domain/posture';

const open = (check: 'weak-key' | 'weak-signature', slot: string, since: string) => ({
  check,
  slot,
  since,
  detail: `${check} on ${slot}`,
});

describe('findings of a device', () => {
  it('the schema-free defaults are what an empty policy body parses to', () => {
    expect(posturePolicySchema.parse({})).toEqual(DEFAULT_POSTURE_POLICY);
  });

  it('a finding still raised keeps the time it opened; a new one opens now', () => {
    const previous = [open('weak-key', 'identity', '2026-01-01T00:00:00.000Z')];
    const raised = [
      { check: 'weak-key' as const, detail: 'RSA-1024 is below the minimum' },
      { check: 'weak-signature' as const, detail: 'SHA1' },
    ];
    expect(slotFindings(previous, 'identity', raised, '2026-02-02T00:00:00.000Z')).toEqual([
      {
        check: 'weak-key',
        slot: 'identity',
        since: '2026-01-01T00:00:00.000Z',
        detail: 'RSA-1024 is below the minimum',
      },
      { check: 'weak-signature', slot: 'identity', since: '2026-02-02T00:00:00.000Z', detail: 'SHA1' },
    ]);
    // Another slot's finding of the same check is its own.
    expect(slotFindings(previous, 'tls', raised, 'now')[0]!.since).toBe('now');
  });

  it('emits one open per new finding and one resolve per finding gone, with the device and slot', () => {
    let n = 0;
    const before = [open('weak-key', 'identity', 't0'), open('weak-key', 'tls', 't0')];
    const after = [open('weak-key', 'identity', 't0'), open('weak-signature', 'identity', 't1')];
    const events = findingEvents('dev-1', before, after, 't1', () => `e${n++}`);
    expect(events).toEqual([
      {
        id: 'e0',
        type: 'device.finding.open',
        subject: 'device/dev-1',
        time: 't1',
        data: { device_id: 'dev-1', ...after[1] },
      },
      {
        id: 'e1',
        type: 'device.finding.resolve',
        subject: 'device/dev-1',
        time: 't1',
        data: { device_id: 'dev-1', ...before[1], resolved_at: 't1' },
      },
    ]);
    expect(findingEvents('dev-1', after, after, 't2', () => 'x')).toEqual([]);
  });

  it('orders findings by check, identity first, and indexes each check once', () => {
    const findings = sortFindings([
      open('weak-signature', 'a', 't'),
      open('weak-key', 'b', 't'),
      open('weak-key', 'identity', 't'),
    ]);
    expect(findings.map((f) => `${f.check}/${f.slot}`)).toEqual([
      'weak-key/identity',
      'weak-key/b',
      'weak-signature/a',
    ]);
    expect(openChecks(findings)).toEqual(['weak-key', 'weak-signature']);
  });
});
