import { compileCriterion, matchesAll, splitFilterParam, type Filter } from '../../../functions/domain/filters';
import { newDevice, type Device } from '../../../functions/domain/device';

const at = new Date('2026-03-15T10:00:00.000Z');
function device(overrides: Partial<Device> = {}): Device {
  const { device } = newDevice(
    {
      id: 'device-001',
      dms_id: 'dms-factory-1',
      tags: ['line-3', 'Sensor'],
      metadata: { firmware_version: '1.4.2', rev: 7, location: { building: 'A', floor: 3 }, list: ['x', 2] },
    },
    at,
  );
  return { ...device, ...overrides };
}

function filter(param: string): Filter {
  const c = splitFilterParam(param);
  if (!c) throw new Error(`unparseable ${param}`);
  const { filter, problem } = compileCriterion(c, 'filter[0]');
  if (!filter) throw new Error(problem?.problem);
  return filter;
}

const matches = (param: string, d = device()) => matchesAll(d, [filter(param)]);

describe('filter grammar', () => {
  it('splits field[op]value, keeping brackets and commas in the value', () => {
    expect(splitFilterParam('status[in]ACTIVE,REVOKED')).toEqual({
      field: 'status',
      operand: 'in',
      value: 'ACTIVE,REVOKED',
    });
    expect(splitFilterParam('metadata.a.b[eq]{"x":[1]}')).toEqual({
      field: 'metadata.a.b',
      operand: 'eq',
      value: '{"x":[1]}',
    });
    expect(splitFilterParam('status=ACTIVE')).toBeUndefined();
  });

  it.each([
    ['colour[eq]red', "unknown field 'colour'"],
    ['status[ct]ACT', "unknown operator 'ct' for field 'status'"],
    ['status[eq]ON', "'ON' is not a device status"],
    ['tags[eq]x', "unknown operator 'eq' for field 'tags'"],
    ['creation_timestamp[bf]yesterday', 'is not an RFC 3339 timestamp'],
    ['creation_timestamp[gt]2026-01-01T00:00:00Z', "unknown operator 'gt'"],
    ['metadata.[eq]x', 'not a valid metadata path'],
    ['metadata.a[exists]maybe', 'exists takes true or false'],
    ['id[eq]', 'empty value'],
  ])('rejects %s naming the problem', (param, problem) => {
    const result = compileCriterion(splitFilterParam(param)!, 'filter[3]');
    expect(result.filter).toBeUndefined();
    expect(result.problem).toEqual({ field: 'filter[3]', problem: expect.stringContaining(problem) });
  });
});

describe('string fields', () => {
  it.each([
    ['id[eq]device-001', true],
    ['id[eq]DEVICE-001', false],
    ['id[eq_ic]DEVICE-001', true],
    ['id[ne]device-001', false],
    ['id[ne_ic]DEVICE-002', true],
    ['id[ct]ice-0', true],
    ['id[ct_ic]ICE-0', true],
    ['id[nc]ice', false],
    ['id[nc_ic]XYZ', true],
    ['dms_owner[in]a,dms-factory-1', true],
    ['dms_owner[in]a,b', false],
    ['dms_owner[in_ic]a,DMS-FACTORY-1', true],
    ['dms_owner[nin]a,b', true],
    ['dms_owner[nin_ic]DMS-FACTORY-1', false],
    ['icon[eq]CgSmartphoneChip', true],
  ])('%s → %s', (param, expected) => expect(matches(param)).toBe(expected));
});

describe('status, tags and dates', () => {
  it.each([
    ['status[eq]NO_IDENTITY', true],
    ['status[ne]NO_IDENTITY', false],
    ['status[in]ACTIVE,NO_IDENTITY', true],
    ['status[in]ACTIVE,REVOKED', false],
    ['tags[ct]line-3', true],
    ['tags[ct]sensor', false],
    ['tags[ct_ic]sensor', true],
    ['tags[ct]line', false],
    ['creation_timestamp[bf]2026-03-15T10:00:00.001Z', true],
    ['creation_timestamp[bf]2026-03-15T10:00:00Z', false],
    ['creation_timestamp[af]2026-03-15T09:59:59Z', true],
    ['creation_timestamp[eq]2026-03-15T11:00:00+01:00', true],
    ['identity.expiration_date[bf]2100-01-01T00:00:00Z', false],
  ])('%s → %s', (param, expected) => expect(matches(param)).toBe(expected));

  it('compares identity.expiration_date when the device has an identity', () => {
    const d = device({
      identity: {
        status: 'ACTIVE',
        active_version: 0,
        type: 'x509',
        secrets: { '0': 'ab' },
        expiration_date: '2027-03-15T10:00:00Z',
        events: {},
      },
    });
    expect(matches('identity.expiration_date[bf]2027-03-15T10:00:01Z', d)).toBe(true);
    expect(matches('identity.expiration_date[af]2027-03-15T10:00:01Z', d)).toBe(false);
    expect(matches('identity.expiration_date[eq]2027-03-15T10:00:00.000Z', d)).toBe(true);
  });
});

describe('metadata', () => {
  it.each([
    ['metadata.firmware_version[eq]1.4.2', true],
    ['metadata.firmware_version[ne]1.4.2', false],
    ['metadata.firmware_version[ct]1.4', true],
    ['metadata.rev[eq]7', true],
    ['metadata.rev[eq]"7"', false],
    ['metadata.rev[gt]6.5', true],
    ['metadata.rev[gt]10', false],
    // Numbers compare as numbers, not as strings ("10" < "7" as strings).
    ['metadata.rev[lt]10', true],
    ['metadata.rev[ge]7', true],
    ['metadata.rev[le]6', false],
    ['metadata.location.floor[eq]3', true],
    ['metadata.location[eq]{"building":"A","floor":3}', true],
    ['metadata.location.building[exists]true', true],
    ['metadata.location.room[exists]false', true],
    ['metadata.missing[ne]x', true],
    ['metadata.missing[eq]x', false],
    ['metadata.list[ct]2', true],
    ['metadata.list[ct]x', true],
    ['metadata.list[ct]y', false],
    ['metadata.firmware_version[gt]1.4.1', true],
  ])('%s → %s', (param, expected) => expect(matches(param)).toBe(expected));

  it('ANDs several filters', () => {
    expect(matchesAll(device(), [filter('tags[ct]line-3'), filter('metadata.rev[ge]7')])).toBe(true);
    expect(matchesAll(device(), [filter('tags[ct]line-3'), filter('metadata.rev[gt]7')])).toBe(false);
  });
});
