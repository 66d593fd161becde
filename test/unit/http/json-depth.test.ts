import fc from 'fast-check';
import { MAX_BODY_DEPTH, scanDepth } from '../../../functions/http/json-depth';
import { deepJsonText } from '../../support/hostile';

/** A JSON value nested `depth` containers deep (objects and arrays alternating), as text. */
const nested = (depth: number) =>
  `${'{"a":['.repeat(Math.floor(depth / 2))}${depth % 2 ? '{}' : '1'}${']}'.repeat(Math.floor(depth / 2))}`;

describe('scanDepth: the nesting pre-scan before JSON.parse', () => {
  it('passes a body at the limit and refuses one container more, naming the top-level member', () => {
    expect(scanDepth(nested(MAX_BODY_DEPTH)).tooDeep).toBe(false);
    const over = scanDepth(`{"id":"x","metadata":${nested(MAX_BODY_DEPTH)}}`);
    expect(over).toMatchObject({ tooDeep: true, field: 'metadata' });
    expect(scanDepth(`[{"op":"add","value":${nested(MAX_BODY_DEPTH)}}]`)).toMatchObject({
      tooDeep: true,
      field: '(body)',
    });
  });

  it('stops at the first container over the limit: a 5,000-deep body costs a few hundred steps', () => {
    const text = `{"metadata":${deepJsonText(5000)}}`;
    const scan = scanDepth(text);
    expect(scan).toMatchObject({ tooDeep: true, field: 'metadata' });
    // Up to the 65th container: `{"metadata":` then 32 `{"a":[` and one `{`, character by character,
    // the member names skipped by a native search.
    expect(scan.steps).toBeLessThanOrEqual(12 + 33 * 6);
    expect(text.length).toBeGreaterThan(100 * scan.steps);
  });

  it('ignores brackets inside strings, escaped quotes included, and reads escaped member names', () => {
    const inString = `{"s":"${'[{'.repeat(200)}\\"${'[{'.repeat(200)}","t":"\\\\"}`;
    expect(JSON.parse(inString)).toBeDefined();
    expect(scanDepth(inString, 2)).toMatchObject({ tooDeep: false });
    expect(scanDepth(`{"x":"]]]]","m\\u0065ta":[[[1]]]}`, 3)).toMatchObject({ tooDeep: true, field: 'meta' });
  });

  it('agrees with the parsed depth on any JSON, in at most one step per character', () => {
    const depthOf = (v: unknown): number =>
      typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 7 }), (value, max) => {
        const text = JSON.stringify(value);
        const scan = scanDepth(text, max);
        expect(scan.tooDeep).toBe(depthOf(value) > max);
        expect(scan.steps).toBeLessThanOrEqual(text.length);
      }),
    );
  });

  it('ends on malformed text without judging it (JSON.parse refuses it after)', () => {
    expect(scanDepth('{"a":"unclosed [[[[').tooDeep).toBe(false);
    expect(scanDepth(']]]]{{{{', 3).tooDeep).toBe(true);
  });
});
