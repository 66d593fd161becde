/** Light or heavy, from a request's shape (cooperative turns: heavy requests wait for light ones locally). */
import { HEAVY_BODY_BYTES, HEAVY_PAGE_SIZE, requestWeight } from '../../../functions/http/request-weight';

const weightOf = (query: string, bodyLength = 0) => requestWeight({ bodyLength, query: new URLSearchParams(query) });
const jsonPath = (expression: string) => `filter=${encodeURIComponent(`metadata[jsonpath]${expression}`)}`;

it('is light for a plain request, a small body and a page of up to HEAVY_PAGE_SIZE devices', () => {
  expect(weightOf('')).toBe('light');
  expect(weightOf('', HEAVY_BODY_BYTES)).toBe('light');
  expect(weightOf(`page_size=${HEAVY_PAGE_SIZE}&filter=tags%5Beq%5Dx`)).toBe('light');
});

it('is heavy for a larger body or page', () => {
  expect(weightOf('', HEAVY_BODY_BYTES + 1)).toBe('heavy');
  expect(weightOf(`page_size=${HEAVY_PAGE_SIZE + 1}`)).toBe('heavy');
});

it.each(['$.env == "prod"', "$['site'].building != 'b7'", '$.n >= 10', '$.a.b[0]', ' $.flag == true '])(
  'is light for a path of names and indexes, compared or not: %s',
  (expression) => {
    expect(weightOf(`page_size=25&${jsonPath(expression)}`)).toBe('light');
    expect(weightOf(`sort_by=${encodeURIComponent(`metadata[jsonpath]${expression}`)}`)).toBe('light');
  },
);

it.each([
  `$${'..*'.repeat(12)}`,
  '$..name',
  '$.*',
  '$[?(@.a == 1)]',
  '$[?("aaaa!".match(/(a{1,}){1,}b/))]',
  `$[?${'length('.repeat(40)}@.a`,
  '$.a[1:3]',
  `$.${'a'.repeat(600)}`,
])('is heavy for an expression that visits more than a path: %s', (expression) => {
  expect(weightOf(jsonPath(expression))).toBe('heavy');
  expect(weightOf(`filter=status%5Beq%5DACTIVE&${jsonPath(expression)}`)).toBe('heavy');
});
