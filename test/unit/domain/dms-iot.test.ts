/** Per-DMS AWS IoT settings (docs/iot-provisioning.md): what `PUT /v2/dms/{id}` accepts and refuses. */
import { dmsIotSettingsOf, MAX_POLICY_DOCUMENT } from '../../../functions/domain/dms-iot';
import { problemsOf, putPolicySchema } from '../../../functions/domain/schemas';

const settings = { preventive_delta: '60d', critical_delta: '14d' };
const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] };
const template = { name: 'factory-jitp', body: { Parameters: {}, Resources: { thing: { Type: 'AWS::IoT::Thing' } } } };

const problems = (iot: unknown) => {
  const parsed = putPolicySchema.safeParse({ settings, iot });
  return parsed.success ? [] : problemsOf(parsed.error);
};

describe('per-DMS AWS IoT settings', () => {
  it('accepts policies, thing groups, a registration mode and a template; null removes them', () => {
    const iot = { policies: [{ name: 'fleet-connect', document }], thing_groups: ['factory-1'], registration: 'jitp' };
    expect(problems({ ...iot, provisioning_template: template })).toEqual([]);
    expect(problems(null)).toEqual([]);
    expect(putPolicySchema.safeParse({ settings }).success).toBe(true);
  });

  it('fills the defaults: no policy, no group, registration on bind', () => {
    expect(dmsIotSettingsOf({})).toEqual({ policies: [], thing_groups: [], registration: 'on-bind' });
  });

  it("takes the shadow of identity actions: a named one, null for the classic one, absent for the stack's", () => {
    expect(problems({ shadow_name: 'identity' })).toEqual([]);
    expect(problems({ shadow_name: null })).toEqual([]);
    expect(dmsIotSettingsOf({ shadow_name: 'identity' }).shadow_name).toBe('identity');
    expect(dmsIotSettingsOf({ shadow_name: null })).toHaveProperty('shadow_name', null);
    expect(dmsIotSettingsOf({})).not.toHaveProperty('shadow_name');
  });

  it.each([
    ['a policy name AWS IoT refuses', { policies: [{ name: 'bad name', document }] }, 'iot.policies.0.name'],
    [
      'two policies of one name',
      {
        policies: [
          { name: 'p', document },
          { name: 'p', document },
        ],
      },
      'iot.policies',
    ],
    [
      'a policy document over the size limit',
      { policies: [{ name: 'p', document: { x: 'a'.repeat(MAX_POLICY_DOCUMENT) } }] },
      'iot.policies.0.document',
    ],
    ['a thing group name with a dot', { thing_groups: ['factory.1'] }, 'iot.thing_groups.0'],
    ['a repeated thing group', { thing_groups: ['g', 'g'] }, 'iot.thing_groups'],
    ['eleven thing groups', { thing_groups: Array.from({ length: 11 }, (_, i) => `g${i}`) }, 'iot.thing_groups'],
    ['an unknown mode', { registration: 'always' }, 'iot.registration'],
    ['jitp without a template', { registration: 'jitp' }, 'iot.provisioning_template'],
    [
      'a template without Resources',
      { provisioning_template: { name: 't', body: { Parameters: {} } } },
      'iot.provisioning_template',
    ],
    ['a template name over 36 characters', { provisioning_template: { ...template, name: 't'.repeat(37) } }, null],
    ['an unknown key', { policy: 'p' }, 'iot.policy'],
    ['a shadow name with a dot', { shadow_name: 'id.v1' }, 'iot.shadow_name'],
    ['a shadow name over 64 characters', { shadow_name: 's'.repeat(65) }, 'iot.shadow_name'],
  ])('refuses %s, naming the field', (_what, iot, field) => {
    const found = problems(iot).map((p) => p.field);
    expect(found).toEqual([field ?? 'iot.provisioning_template.name']);
  });
});
