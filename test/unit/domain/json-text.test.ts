/** A value's JSON text kept beside it, and list pages joined from those texts. */
import { hasJsonText, jsonBytes, jsonTextOf, pageJsonText, withJsonText } from '../../../functions/domain/json-text';

it('uses the attached text, which copies and serialization leave out', () => {
  const value = withJsonText({ a: 'é' }, '{"a":"é"}');
  expect(hasJsonText(value)).toBe(true);
  expect(Object.keys(value)).toEqual(['a']);
  expect(JSON.stringify(value)).toBe('{"a":"é"}');
  expect(hasJsonText({ ...value })).toBe(false);
  // The attached text is what is used, even when it is not the serialization (callers must attach the right one).
  expect(jsonTextOf(withJsonText({ a: 1 }, '"stale"'))).toBe('"stale"');
  expect(jsonTextOf({ b: [1] })).toBe('{"b":[1]}');
  expect(jsonBytes(value)).toBe(10);
});

it('joins a page from its items in the page key order', () => {
  const list = [withJsonText({ id: 'a' }, '{"id":"a"}'), { id: 'b' }];
  expect(pageJsonText({ list, next: 'n"1' })).toBe(JSON.stringify({ list, next: 'n"1' }));
  expect(pageJsonText({ next: '', list })).toBe(JSON.stringify({ next: '', list }));
  expect(pageJsonText({ next: '', list: [] })).toBe('{"next":"","list":[]}');
});
