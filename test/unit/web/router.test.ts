/** The dashboard's hash routes: hand-made links decode safely. */
import { href, parseHash } from '../../../web/src/hash-route';

describe('parseHash', () => {
  it('decodes each path segment and keeps the query', () => {
    const route = parseHash('#/devices/a%2Fb?filter=status%5Beq%5DACTIVE');
    expect(route.path).toEqual(['devices', 'a/b']);
    expect(route.query.get('filter')).toBe('status[eq]ACTIVE');
    expect(route.malformed).toBeUndefined();
    expect(parseHash(href(['groups', 'x y/ü']))).toEqual({ path: ['groups', 'x y/ü'], query: new URLSearchParams() });
  });

  it.each([
    ['#/devices/%E0%A4%A', '%E0%A4%A'],
    ['#/groups/%', '%'],
    ['#/devices/%ZZ?x=1', '%ZZ'],
    ['#/devices/%ED%A0%80', '%ED%A0%80'],
  ])('marks %s as malformed (the segment %s) instead of throwing', (hash, segment) => {
    const route = parseHash(hash);
    expect(route.malformed).toBe(segment);
    expect(route.path).toContain(segment);
  });
});
