/** Re-run comparison: a row against the existing device of the same id (no network). */
import { compareDevice, isSame, sameJson, type ExistingDevice } from '../../../cli/compare';
import type { DeviceRow } from '../../../cli/rows';

const device: ExistingDevice = {
  id: 'd1',
  dms_owner: 'dms-1',
  status: 'ACTIVE',
  tags: ['a', 'b'],
  metadata: { fw: '1.0', loc: { floor: 3, room: 'x' } },
  icon: 'chip',
  icon_color: '#25ee32',
  identity: { status: 'ACTIVE', active_version: 2, secrets: { '1': 'aa', '2': 'bb' } },
  version: 5,
};
const row = (create: Record<string, unknown>, extra: Partial<DeviceRow> = {}): DeviceRow => ({
  line: 1,
  id: 'd1',
  create: { id: 'd1', ...create },
  ...extra,
});

describe('compareDevice', () => {
  it('is the same when every field the row sets matches (tags as a set, metadata key order ignored)', () => {
    const same = compareDevice(
      row({ dms_id: 'dms-1', tags: ['b', 'a', 'a'], metadata: { loc: { room: 'x', floor: 3 }, fw: '1.0' } }),
      'bb',
      device,
    );
    expect(isSame(same)).toBe(true);
    expect(isSame(compareDevice(row({}), undefined, device))).toBe(true);
  });

  it('lists the differing fields with a JSON patch that replaces them', () => {
    const c = compareDevice(
      row({ dms_id: 'dms-1', tags: ['a', 'c', 'c'], metadata: { fw: '1.0' }, icon: 'chip', icon_color: '#000000' }),
      undefined,
      device,
    );
    expect(c.differences).toEqual(['tags', 'metadata', 'icon_color']);
    expect(c.fixed).toEqual([]);
    expect(c.patch).toEqual([
      { op: 'replace', path: '/tags', value: ['a', 'c'] },
      { op: 'replace', path: '/metadata', value: { fw: '1.0' } },
      { op: 'replace', path: '/icon_color', value: '#000000' },
    ]);
    expect(isSame(c)).toBe(false);
  });

  it('another DMS or a decommissioned device cannot be patched', () => {
    expect(compareDevice(row({ dms_id: 'dms-2', icon: 'x' }), undefined, device)).toMatchObject({
      fixed: ['dms_owner'],
      differences: ['dms_owner', 'icon'],
    });
    const gone = compareDevice(row({ dms_id: 'dms-1', icon: 'x' }), undefined, { ...device, status: 'DECOMMISSIONED' });
    expect(gone).toMatchObject({ fixed: ['status', 'icon'], differences: ['status', 'icon'], patch: [] });
  });

  it('a different certificate is a re-bind; a device without identity is completed by binding', () => {
    expect(compareDevice(row({}), 'cc', device)).toMatchObject({
      differences: ['identity'],
      rebind: true,
      complete: { bind: false },
    });
    const bare = compareDevice(row({}), 'cc', { ...device, identity: undefined });
    expect(bare).toMatchObject({
      differences: [],
      rebind: false,
      complete: { bind: true, revoke: false, decommission: false },
    });
    expect(isSame(bare)).toBe(false);
  });

  it('an exported revoked or decommissioned device: the lifecycle step is pending until done', () => {
    expect(compareDevice(row({}, { revoked: 'KeyCompromise' }), 'bb', device).complete).toEqual({
      bind: false,
      revoke: true,
      decommission: false,
    });
    expect(
      isSame(
        compareDevice(row({}, { revoked: 'KeyCompromise' }), 'bb', {
          ...device,
          status: 'REVOKED',
          identity: { ...device.identity!, status: 'REVOKED' },
        }),
      ),
    ).toBe(true);
    expect(compareDevice(row({}, { decommissioned: true }), 'bb', device).complete).toEqual({
      bind: false,
      revoke: false,
      decommission: true,
    });
    expect(
      isSame(
        compareDevice(row({}, { decommissioned: true }), 'bb', {
          ...device,
          status: 'DECOMMISSIONED',
          identity: { ...device.identity!, status: 'REVOKED' },
        }),
      ),
    ).toBe(true);
    // The row's certificate is the device's, but the device revoked it and the row does not say so.
    expect(
      compareDevice(row({}), 'bb', {
        ...device,
        status: 'REVOKED',
        identity: { ...device.identity!, status: 'REVOKED' },
      }).fixed,
    ).toEqual(['identity.status']);
  });
});

describe('sameJson', () => {
  it('compares values, not key order or identity', () => {
    expect(sameJson({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({}, [])).toBe(false);
    expect(sameJson(1, '1')).toBe(false);
  });
});
