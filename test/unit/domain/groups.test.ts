import { DEVICE_STATUSES, newDevice } from '../../../functions/domain/device';
import {
  GroupCycleError,
  GroupDepthExceededError,
  ParentGroupNotFoundError,
  ValidationError,
} from '../../../functions/domain/errors';
import { compileCriterion, matchesFilter, splitFilterParam, statusesAllowed } from '../../../functions/domain/filters';
import {
  ancestorsOf,
  checkPlacement,
  compileGroupCriteria,
  type Criterion,
  type DeviceGroup,
  effectiveCriteria,
  groupNameKey,
  heightOf,
  newGroup,
  replacedGroup,
  subtreeLeavesFirst,
  viewOf,
} from '../../../functions/domain/groups';
import { groupProblemsOf, replaceGroupSchema, createGroupSchema } from '../../../functions/domain/group-schemas';

const at = new Date('2026-03-15T10:00:00.000Z');
const c = (field: string, operand: string, value: string): Criterion => ({ field, operand, value });

function group(id: string, parent_id: string | null, criteria: Criterion[] = []): DeviceGroup {
  return newGroup(id, { name: `Group ${id}`, parent_id, criteria }, at);
}

/** prod → eu → eu-line3, prod → us; lab is a separate root. */
function forest(): Map<string, DeviceGroup> {
  const groups = [
    group('prod', null, [c('dms_owner', 'eq', 'dms-factory-1')]),
    group('eu', 'prod', [c('tags', 'ct', 'eu')]),
    group('eu-line3', 'eu', [c('metadata.line', 'eq', '3')]),
    group('us', 'prod', [c('tags', 'ct', 'us')]),
    group('lab', null),
  ];
  return new Map(groups.map((g) => [g.id, g]));
}

/** The error `fn` throws; fails the test when it throws nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const chain = (n: number): Map<string, DeviceGroup> =>
  new Map(Array.from({ length: n }, (_, i) => group(`g${i}`, i === 0 ? null : `g${i - 1}`)).map((g) => [g.id, g]));

describe('criteria validation', () => {
  it('accepts every field and operator of the device filter language', () => {
    const filters = compileGroupCriteria([
      c('id', 'in_ic', 'a,b'),
      c('dms_owner', 'eq', 'dms-1'),
      c('status', 'in', 'ACTIVE,EXPIRED'),
      c('tags', 'ct_ic', 'EU'),
      c('creation_timestamp', 'af', '2026-01-01T00:00:00Z'),
      c('metadata.fw.major', 'ge', '2'),
    ]);
    expect(filters.map((f) => f.kind)).toEqual(['string', 'string', 'status', 'tags', 'date', 'metadata']);
  });

  it('rejects unknown fields, operators and wrong values, naming criteria[i] for each', () => {
    const criteria = [
      c('tags', 'ct', 'eu'),
      c('colour', 'eq', 'red'),
      c('status', 'gt', 'ACTIVE'),
      c('status', 'eq', 'ON'),
      c('creation_timestamp', 'bf', 'soon'),
    ];
    expect(() => compileGroupCriteria(criteria)).toThrow(ValidationError);
    expect((thrown(() => compileGroupCriteria(criteria)) as ValidationError).details).toEqual([
      { field: 'criteria[1]', problem: "unknown field 'colour'" },
      { field: 'criteria[2]', problem: "unknown operator 'gt' for field 'status'" },
      { field: 'criteria[3]', problem: expect.stringContaining("'ON' is not a device status") },
      { field: 'criteria[4]', problem: expect.stringContaining('RFC 3339') },
    ]);
  });

  it('names criteria[i] in shape problems of the request schema too', () => {
    const parsed = createGroupSchema.safeParse({
      name: 'x',
      criteria: [
        c('id', 'eq', 'a'),
        { field: 'id', operand: 'eq', value: 5 },
        { field: 'id', operand: 'eq', value: 'x', extra: 1 },
      ],
    });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(
      groupProblemsOf(parsed.error)
        .map((p) => p.field)
        .sort(),
    ).toEqual(['criteria[1].value', 'criteria[2].extra']);
  });

  it('validates names: no blank, no surrounding whitespace, no control characters', () => {
    for (const name of ['', ' prod', 'prod ', 'a\u0007b', 'x'.repeat(129)])
      expect(createGroupSchema.safeParse({ name, criteria: [] }).success).toBe(false);
    expect(createGroupSchema.safeParse({ name: 'Production EU', criteria: [], parent_id: null }).success).toBe(true);
    expect(
      replaceGroupSchema.safeParse({
        id: 'g',
        name: 'n',
        criteria: [],
        version: 3,
        inherited_criteria: [],
        created_at: 'x',
      }).success,
    ).toBe(true);
    expect(replaceGroupSchema.safeParse({ name: 'n', criteria: [], colour: 'red' }).success).toBe(false);
  });

  it('makes names unique case-insensitively (NFKC, then lower case)', () => {
    expect(groupNameKey('Production EU')).toBe(groupNameKey('production eu'));
    expect(groupNameKey('\uff30roduction')).toBe(groupNameKey('production'));
    expect(groupNameKey('prod-1')).not.toBe(groupNameKey('prod-2'));
  });
});

describe('inheritance', () => {
  it('lists the ancestors root first and inherits their criteria in that order', () => {
    const groups = forest();
    const leaf = groups.get('eu-line3')!;
    const ancestors = ancestorsOf(leaf, groups)!;
    expect(ancestors.map((g) => g.id)).toEqual(['prod', 'eu']);
    expect(viewOf(leaf, ancestors)).toMatchObject({
      id: 'eu-line3',
      parent_id: 'eu',
      criteria: [c('metadata.line', 'eq', '3')],
      inherited_criteria: [c('dms_owner', 'eq', 'dms-factory-1'), c('tags', 'ct', 'eu')],
    });
    expect(effectiveCriteria(leaf, ancestors)).toEqual([
      c('dms_owner', 'eq', 'dms-factory-1'),
      c('tags', 'ct', 'eu'),
      c('metadata.line', 'eq', '3'),
    ]);
    expect(ancestorsOf(groups.get('prod')!, groups)).toEqual([]);
  });

  it('a member matches its own criteria AND every ancestor criterion', () => {
    const groups = forest();
    const leaf = groups.get('eu-line3')!;
    const filters = compileGroupCriteria(effectiveCriteria(leaf, ancestorsOf(leaf, groups)!));
    const device = (dms: string, tags: string[], line: number) =>
      newDevice({ id: 'd', dms_id: dms, tags, metadata: { line } }, at).device;
    expect(filters.every((f) => matchesFilter(device('dms-factory-1', ['eu'], 3), f))).toBe(true);
    expect(filters.every((f) => matchesFilter(device('dms-factory-2', ['eu'], 3), f))).toBe(false);
    expect(filters.every((f) => matchesFilter(device('dms-factory-1', ['us'], 3), f))).toBe(false);
    expect(filters.every((f) => matchesFilter(device('dms-factory-1', ['eu'], 4), f))).toBe(false);
  });

  it('reports a broken chain (an ancestor deleted concurrently) as undefined, never a shorter chain', () => {
    const groups = forest();
    groups.delete('eu');
    expect(ancestorsOf(groups.get('eu-line3')!, groups)).toBeUndefined();
  });
});

describe('cycle detection and depth', () => {
  it('refuses self-parenting and parents among the descendants (400 naming parent_id)', () => {
    const groups = forest();
    expect(() => checkPlacement('prod', 'prod', groups, 10)).toThrow(GroupCycleError);
    expect(() => checkPlacement('prod', 'eu-line3', groups, 10)).toThrow(GroupCycleError);
    expect(() => checkPlacement('eu', 'eu-line3', groups, 10)).toThrow(GroupCycleError);
    const error = thrown(() => checkPlacement('prod', 'eu', groups, 10));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([
      { field: 'parent_id', problem: expect.stringContaining('descendants') },
    ]);
  });

  it('accepts moves that keep a tree: under a sibling, another root, or to the root', () => {
    const groups = forest();
    expect(() => checkPlacement('eu', 'us', groups, 10)).not.toThrow();
    expect(() => checkPlacement('prod', 'lab', groups, 10)).not.toThrow();
    expect(() => checkPlacement('eu', null, groups, 10)).not.toThrow();
    expect(() => checkPlacement('new', 'eu-line3', groups, 10)).not.toThrow();
  });

  it('answers 404 for a missing parent', () => {
    expect(() => checkPlacement('new', 'nope', forest(), 10)).toThrow(ParentGroupNotFoundError);
  });

  it('limits depth counting the whole moved subtree (a root is level 1)', () => {
    const groups = chain(10); // g0 … g9: 10 levels
    expect(heightOf('g0', groups.values())).toBe(10);
    expect(() => checkPlacement('g10', 'g8', groups, 10)).not.toThrow(); // level 10
    expect(() => checkPlacement('g10', 'g9', groups, 10)).toThrow(GroupDepthExceededError); // level 11
    groups.set('root2', group('root2', null));
    // Moving g1 (9 levels with its subtree) under another root makes 10 levels; under g0's child, 11.
    expect(() => checkPlacement('g1', 'root2', groups, 10)).not.toThrow();
    groups.set('r2child', group('r2child', 'root2'));
    expect(() => checkPlacement('g1', 'r2child', groups, 10)).toThrow(GroupDepthExceededError);
    expect(() => checkPlacement('g10', 'g2', groups, 3)).toThrow(GroupDepthExceededError);
  });
});

describe('subtrees, replacement', () => {
  it('orders a subtree leaves first: every group after all its descendants', () => {
    const groups = forest();
    const order = subtreeLeavesFirst(groups.get('prod')!, groups.values()).map((g) => g.id);
    expect(order).toEqual(['eu-line3', 'eu', 'us', 'prod']);
    expect(subtreeLeavesFirst(groups.get('lab')!, groups.values()).map((g) => g.id)).toEqual(['lab']);
  });

  it('replaces name, description, parent and criteria with a new version; nothing changed → undefined', () => {
    const g = group('eu', 'prod', [c('tags', 'ct', 'eu')]);
    const later = new Date('2026-03-16T10:00:00.000Z');
    expect(
      replacedGroup(g, { name: g.name, parent_id: 'prod', criteria: [c('tags', 'ct', 'eu')] }, later),
    ).toBeUndefined();
    const next = replacedGroup(g, { name: 'EU', criteria: [] }, later)!;
    expect(next).toMatchObject({
      id: 'eu',
      name: 'EU',
      description: '',
      parent_id: null,
      criteria: [],
      created_at: g.created_at,
      updated_at: later.toISOString(),
      version: 2,
    });
  });
});

describe('status criteria in statistics', () => {
  it('statusesAllowed agrees with matchesFilter for every status operator', () => {
    const f = (p: string) => compileCriterion(splitFilterParam(p)!, 'f').filter!;
    for (const filters of [
      [f('status[eq]ACTIVE')],
      [f('status[ne]ACTIVE')],
      [f('status[in]ACTIVE,EXPIRED'), f('status[ne]EXPIRED')],
      [f('dms_owner[eq]x')],
    ]) {
      const expected = DEVICE_STATUSES.filter((status) =>
        filters.every(
          (flt) =>
            flt.kind !== 'status' || matchesFilter({ ...newDevice({ id: 'd', dms_id: 'x' }, at).device, status }, flt),
        ),
      );
      expect(statusesAllowed(filters)).toEqual(expected);
    }
    expect(statusesAllowed([f('status[in]ACTIVE,EXPIRED'), f('status[ne]EXPIRED')])).toEqual(['ACTIVE']);
  });
});
