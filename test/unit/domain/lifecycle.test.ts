/** The lifecycle list (domain/lifecycle.ts): what it keeps, its byte bound, and the inline fallback. */
import type { Device, DeviceEvent } from '../../../functions/domain/device';
import {
  appendLifecycle,
  inlineLifecycleOf,
  LIFECYCLE_MAX_BYTES,
  lifecycleOf,
  storedLifecycleOf,
  withLifecycle,
} from '../../../functions/domain/lifecycle';

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
const bytes = (events: unknown) => new TextEncoder().encode(JSON.stringify(events)).length;

describe('appendLifecycle', () => {
  it('keeps CREATED, status and identity events; drops metadata updates and extra-slot events', () => {
    const added: DeviceEvent[] = [
      { timestamp: at(0), type: 'CREATED', description: 'Device created' },
      { timestamp: at(1), type: 'SHADOW-UPDATED', description: 'Updated metadata' },
      {
        timestamp: at(2),
        type: 'PROVISIONED',
        description: "Provisioned slot 'identity' with certificate 1a (version 0)",
        slot: 'identity',
      },
      { timestamp: at(3), type: 'STATUS-UPDATED', description: "Status updated from 'NO_IDENTITY' to 'ACTIVE'" },
      {
        timestamp: at(4),
        type: 'PROVISIONED',
        description: "Provisioned slot 'ssh' with SSH_KEY secret (version 0)",
        slot: 'ssh',
      },
      { timestamp: at(5), type: 'DECOMMISSIONED', description: 'Device decommissioned' },
    ];
    expect(appendLifecycle([], added).map((e) => [e.type, e.slot])).toEqual([
      ['CREATED', undefined],
      ['PROVISIONED', 'identity'],
      ['STATUS-UPDATED', undefined],
      ['DECOMMISSIONED', undefined],
    ]);
  });

  it('stays within LIFECYCLE_MAX_BYTES by dropping the oldest events after CREATED', () => {
    let list = appendLifecycle([], [{ timestamp: at(0), type: 'CREATED', description: 'Device created' }]);
    // 696 such events fit beside CREATED: 1,000 renewals overflow by 304, and every append after the
    // 696th drops one (3,000 took 9 s: each append measures the whole list).
    const renewals = 1000;
    for (let i = 1; i <= renewals; i++)
      list = appendLifecycle(list, [
        {
          timestamp: at(i),
          type: 'RENEWED',
          description: `Renewed slot 'identity' with certificate ${'ab'.repeat(20)} (version ${i})`,
          slot: 'identity',
        },
      ]);
    expect(bytes(list)).toBeLessThanOrEqual(LIFECYCLE_MAX_BYTES);
    expect(bytes(list)).toBeGreaterThan(LIFECYCLE_MAX_BYTES - 200);
    expect(list[0]!.type).toBe('CREATED');
    expect(list.at(-1)!.description).toContain(`(version ${renewals})`);
    // Contiguous newest events: nothing in the middle is lost.
    const versions = list.slice(1).map((e) => Number(/version (\d+)/.exec(e.description)![1]));
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => renewals - versions.length + 1 + i));
    expect(versions[0]).toBeGreaterThan(200);
  });
});

describe('lifecycleOf', () => {
  const device = (): Device => ({
    id: 'd',
    tags: [],
    status: 'ACTIVE',
    icon: 'chip',
    icon_color: '#25ee32',
    creation_timestamp: at(0),
    metadata: {},
    dms_owner: 'm',
    identity: {
      status: 'ACTIVE',
      active_version: 0,
      type: 'x509',
      secrets: { '0': '1a' },
      events: {
        [at(2)]: { type: 'PROVISIONED', description: 'p' },
        [at(3)]: { type: 'STATUS-UPDATED', description: "Status updated from 'NO_IDENTITY' to 'ACTIVE'" },
      },
    },
    slots: {
      ssh: {
        status: 'ACTIVE',
        active_version: 0,
        type: 'SSH_KEY',
        secrets: {},
        events: { [at(4)]: { type: 'PROVISIONED', description: 's' } },
      },
    },
    events: {
      [at(0)]: { type: 'CREATED', description: 'Device created' },
      [at(1)]: { type: 'SHADOW-UPDATED', description: 'u' },
      [at(2)]: { type: 'PROVISIONED', description: 'p' },
      [at(3)]: { type: 'STATUS-UPDATED', description: "Status updated from 'NO_IDENTITY' to 'ACTIVE'" },
      [at(4)]: { type: 'PROVISIONED', description: 's' },
    },
    version: 5,
  });

  it(
    'tells a device without the list from its inline events: slot ' +
      'events in the slot, the mirrored status event on the device',
    () => {
      const d = device();
      expect(storedLifecycleOf(d)).toBeUndefined();
      expect(inlineLifecycleOf(d).map((e) => [e.timestamp, e.type, e.slot])).toEqual([
        [at(0), 'CREATED', undefined],
        [at(2), 'PROVISIONED', 'identity'],
        [at(3), 'STATUS-UPDATED', undefined],
      ]);
      expect(lifecycleOf(d)).toEqual(inlineLifecycleOf(d));
    },
  );

  it('prefers the stored list, which JSON and spreads never carry', () => {
    const stored = [{ timestamp: at(0), type: 'CREATED' as const, description: 'Device created' }];
    const d = withLifecycle(device(), stored);
    expect(lifecycleOf(d)).toBe(stored);
    expect(JSON.stringify(d)).toBe(JSON.stringify(device()));
    expect(storedLifecycleOf({ ...d })).toBeUndefined();
  });
});
