import { bindCertificateSchema, createDeviceSchema, problemsOf } from '../../../functions/domain/schemas';

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
