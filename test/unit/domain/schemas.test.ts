import { createDeviceSchema, problemsOf } from '../../../functions/domain/schemas';
import { bindCertificateSchema } from '../../../functions/domain/slot-schemas';

describe('problemsOf (docs/api.md, Wire conventions: one details entry per offending field)', () => {
  it('names every unknown body key in its own entry', () => {
    const parsed = bindCertificateSchema.safeParse({
      certificate: 'x',
      status: 'ACTIVE',
      active_version: 0,
      type: 'x509',
      versions: {},
      events: {},
    });
    expect(parsed.success).toBe(false);
    const fields = problemsOf(parsed.error!).map((p) => p.field);
    expect(fields).toEqual(['status', 'active_version', 'type', 'versions', 'events']);
  });

  it('prefixes nested unknown keys with their parent path and keeps other problems', () => {
    const parsed = createDeviceSchema.safeParse({ id: '', dms_id: 'd', extra: 1, other: 2 });
    expect(parsed.success).toBe(false);
    const problems = problemsOf(parsed.error!, 'device');
    expect(problems.map((p) => p.field).sort()).toEqual(['device.extra', 'device.id', 'device.other']);
    expect(problems.find((p) => p.field === 'device.extra')!.problem).toBe("unknown field 'extra'");
  });
});

describe("zod/mini with zod's English messages (functions/domain/zod-mini.ts)", () => {
  it("words a field's problem as the full build of zod does, not mini's bare 'Invalid input'", () => {
    const parsed = createDeviceSchema.safeParse({ id: 7, dms_id: 'd', tags: Array(51).fill('t'), icon: '' });
    expect(parsed.success).toBe(false);
    expect(problemsOf(parsed.error!)).toEqual([
      { field: 'id', problem: 'Invalid input: expected string, received number' },
      { field: 'tags', problem: 'Too big: expected array to have <=50 items' },
      { field: 'icon', problem: 'Too small: expected string to have >=1 characters' },
    ]);
  });
});
