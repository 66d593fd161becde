/**
 * icon_color: one hex colour, or Lamassu's `<colour>-<background>` pair (its dashboard's Register
 * New Device and its RA profiles write the pair), on /v2 and on the Lamassu edge; nothing else.
 */
import { ValidationError } from '../../../functions/domain/errors';
import { createDeviceSchema, shadowSchema } from '../../../functions/domain/schemas';
import { newDeviceOf } from '../../../functions/lamassu/bodies';

const ACCEPTED = [
  '#25ee32',
  '#fff',
  '#25ee32ff',
  '#0f67ff-#F0F8FF',
  '#888888-#e0e0e0',
  '#abc-#DEF',
  '#00000000-#ffffffff',
];
const REFUSED = [
  '',
  'red',
  '#25ee3',
  '#0f67ff-',
  '-#F0F8FF',
  '#0f67ff-#F0F8FF-#000000',
  '#0f67ff #F0F8FF',
  '#0f67ff-F0F8FF',
  '#0f67ff--#F0F8FF',
  ' #0f67ff',
  '#0f67ff-#F0F8FF\n',
];

describe('icon_color on /v2 (createDeviceSchema, shadowSchema)', () => {
  it.each(ACCEPTED)('accepts %j and keeps it as given', (color) => {
    expect(createDeviceSchema.parse({ id: 'd1', dms_id: 'm', icon_color: color }).icon_color).toBe(color);
    expect(shadowSchema.parse({ tags: [], metadata: {}, icon: 'chip', icon_color: color }).icon_color).toBe(color);
  });

  it.each(REFUSED)('refuses %j, naming the field', (color) => {
    const parsed = createDeviceSchema.safeParse({ id: 'd1', dms_id: 'm', icon_color: color });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['icon_color']);
  });
});

describe('icon_color on the Lamassu edge (CreateDeviceBody)', () => {
  const body = (icon_color: unknown) => ({
    id: 'd1',
    alias: '',
    tags: null,
    metadata: null,
    dms_id: 'ra-1',
    icon: 'Cpu',
    icon_color,
  });

  it('accepts the pair the dashboard sends (RegisterDeviceModal.tsx:161) and its default (:128)', () => {
    expect(newDeviceOf(body('#0f67ff-#F0F8FF')).icon_color).toBe('#0f67ff-#F0F8FF');
    expect(newDeviceOf(body('#888888-#e0e0e0')).icon_color).toBe('#888888-#e0e0e0');
    expect(newDeviceOf(body('#FF0000')).icon_color).toBe('#FF0000');
  });

  it('takes "" and null as unset (Go clients send "" for an unset string): the default applies', () => {
    expect(newDeviceOf(body('')).icon_color).toBeUndefined();
    expect(newDeviceOf(body(null)).icon_color).toBeUndefined();
  });

  it.each(REFUSED.filter((c) => c !== ''))('refuses %j with a 400 naming icon_color', (color) => {
    let error: unknown;
    try {
      newDeviceOf(body(color));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.map((d) => d.field)).toEqual(['icon_color']);
  });
});
