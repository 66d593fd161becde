/**
 * The bounded JSONPath engine: the RFC 9535 compliance test suite (shipped in the jsonpath-rfc9535
 * package) run through our parser and evaluator, the refusals (match/search, nesting), and its cost
 * bounds counted in steps, never timed.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { dirname, join } from 'node:path';
import {
  evaluate,
  JsonPathBudget,
  JsonPathBudgetError,
  JsonPathSyntaxError,
  MAX_NESTING,
  parseJsonPath,
} from '../../../functions/lamassu/jsonpath-engine';
import {
  compileJsonPath,
  JSONPATH_MAX_STEPS,
  jsonPathBudget,
  matchesJsonPath,
} from '../../../functions/lamassu/jsonpath';
import { branchyMetadata, JSONPATH_PIECES } from '../../support/hostile';

interface Case {
  name: string;
  selector: string;
  document?: unknown;
  result?: unknown[];
  results?: unknown[][];
  invalid_selector?: boolean;
}
// The package's exports map hides the file: resolve it from the package root.
const ctsPath = join(
  dirname(require.resolve('jsonpath-rfc9535/package.json')),
  'src/__tests__/jsonpath-compliance-test-suite/cts.json',
);
const cts = JSON.parse(readFileSync(ctsPath, 'utf8')) as { tests: Case[] };
const budget = () => new JsonPathBudget(1_000_000, 100_000);
// Regular expressions are refused on purpose; those cases expect a result, we answer a syntax error.
const usesRegex = (c: Case) => /\b(match|search)\(/.test(c.selector);

describe('RFC 9535 compliance test suite', () => {
  const cases = cts.tests.filter((c) => !usesRegex(c));
  it('has the cases (sanity)', () => expect(cases.length).toBeGreaterThan(500));
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    if (c.invalid_selector) {
      expect(() => parseJsonPath(c.selector)).toThrow(JsonPathSyntaxError);
      return;
    }
    const { query } = parseJsonPath(c.selector);
    const got = evaluate(query, c.document, budget());
    if (c.result) expect(got).toEqual(c.result);
    else expect(c.results!.some((r) => JSON.stringify(r) === JSON.stringify(got))).toBe(true);
  });
});

describe('refusals', () => {
  it.each([
    '$[?match(@.a, "a+")]',
    '$[?search(@.a, "(a{1,}){1,}b")]',
    '$[?foo(@.a)]',
    '$[?length(@.*) == 1]',
    '$[?count(1) == 1]',
    '$[?(@.a ==)]',
    '$[?@.a == "x".match(/a/)]',
  ])('%s is a syntax error', (expr) => {
    expect(() => parseJsonPath(expr)).toThrow(JsonPathSyntaxError);
  });

  it('names match() and search() as unsupported', () => {
    expect(() => parseJsonPath('$[?match(@.a, "a")]')).toThrow(/match\(\) is not supported/);
  });

  it(`caps nesting at ${MAX_NESTING}`, () => {
    expect(() => parseJsonPath(`$[?${'('.repeat(MAX_NESTING + 1)}@.a${')'.repeat(MAX_NESTING + 1)}]`)).toThrow(
      /nesting deeper/,
    );
    expect(() => parseJsonPath(`$[?${'('.repeat(MAX_NESTING - 2)}@.a${')'.repeat(MAX_NESTING - 2)}]`)).not.toThrow();
  });
});

describe('cost bounds', () => {
  // The unclosed nested calls that make a backtracking parser exponential (76 characters: 18 s in Peggy's).
  it.each([
    ['unclosed nested calls', `$[?${'length('.repeat(60)}@.a`],
    ['unclosed parentheses', `$[?${'('.repeat(200)}@.a`],
    ['long alternations', `$[?${Array.from({ length: 40 }, (_, i) => `@.a${i}==1`).join('||')}]`],
    ['many selectors', `$[${Array.from({ length: 100 }, (_, i) => i).join(',')}]`],
  ])('parses %s in steps linear in its length', (_, expr) => {
    let steps: number;
    try {
      steps = parseJsonPath(expr).steps;
    } catch (error) {
      expect(error).toBeInstanceOf(JsonPathSyntaxError);
      // A failed parse stops at its position: at most the input was consumed.
      expect((error as JsonPathSyntaxError).at).toBeLessThanOrEqual(expr.length);
      return;
    }
    expect(steps).toBeLessThanOrEqual(2 * expr.length);
  });

  const wide = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [`k${i}`, Array.from({ length: 50 }, (_, j) => ({ v: j }))]),
  );
  let deepWide: unknown = wide;
  for (let i = 0; i < 8; i++) deepWide = { a: deepWide, b: [deepWide] };
  it('stops chained descendants at the step budget', () => {
    const { query } = parseJsonPath('$..*..*..*..*');
    // Unbounded, this visits every descendant of every descendant… (the 221 s request).
    const b = new JsonPathBudget(50_000, 1_000_000);
    expect(() => evaluate(query, deepWide, b)).toThrow(JsonPathBudgetError);
    expect(b.steps).toBeLessThanOrEqual(50_001);
  });

  it('stops a selection larger than the node budget', () => {
    const { query } = parseJsonPath('$..*');
    expect(() => evaluate(query, wide, new JsonPathBudget(1_000_000, 1000))).toThrow(/more than 1000 nodes/);
  });

  it('stops at the deadline, reading the clock once per 1,024 steps', () => {
    let reads = 0;
    let t = 0;
    const b = new JsonPathBudget(10_000_000, 1_000_000, 100, () => {
      reads++;
      return (t += 10);
    });
    expect(() => evaluate(parseJsonPath('$..*..*').query, wide, b)).toThrow(/deadline/);
    expect(reads).toBeLessThanOrEqual(Math.ceil(b.steps / 1024) + 1);
  });

  it('walks a document nested 100,000 deep without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(evaluate(parseJsonPath('$..[?@ == 1]').query, deep, new JsonPathBudget(1_000_000, 1_000_000))).toEqual([1]);
  });

  it('charges deep equality of large values', () => {
    const big = Array.from({ length: 5000 }, (_, i) => i);
    const b = new JsonPathBudget(1_000_000, 1_000_000);
    expect(evaluate(parseJsonPath('$[?@.a == $.b]').query, { x: { a: big }, b: [...big] }, b)).toEqual([{ a: big }]);
    expect(b.steps).toBeGreaterThan(5000);
  });

  it('shares one budget across the devices of a request', () => {
    const predicate = compileJsonPath('$..*');
    if (typeof predicate === 'string') throw new Error(predicate);
    const b = jsonPathBudget();
    expect(() => {
      for (let i = 0; i < 1000; i++) matchesJsonPath(predicate, wide, b);
    }).toThrow(JsonPathBudgetError);
    expect(b.steps).toBeLessThanOrEqual(JSONPATH_MAX_STEPS + 1);
  });
});

describe('Lamassu forms', () => {
  it('keeps own members only: __proto__, constructor and toString are names like any other', () => {
    const doc = JSON.parse('{"__proto__": {"x": 1}, "a": {}}');
    expect(evaluate(parseJsonPath('$.__proto__.x').query, doc, budget())).toEqual([1]);
    expect(evaluate(parseJsonPath('$.a.constructor').query, doc, budget())).toEqual([]);
    expect(evaluate(parseJsonPath('$.a.toString').query, doc, budget())).toEqual([]);
  });

  it('answers a parse error naming the expression and the position', () => {
    expect(compileJsonPath('$[?(@.a ==)]')).toMatch(
      /'\$\[\?\(@\.a ==\)\]' is not a valid JSONPath expression: .* at position 10/,
    );
  });
});

describe('generated expressions', () => {
  const doc = { env: 'prod', n: 3, t: branchyMetadata(), a: [1, 'x', { b: null }] };
  it('parse in linear steps, fail only with a syntax error, and evaluate within the budget', () => {
    const expression = fc
      .array(fc.constantFrom(...JSONPATH_PIECES), { maxLength: 10 })
      .map((pieces) => `$${pieces.join('')}`);
    fc.assert(
      fc.property(expression, (text) => {
        let parsed: ReturnType<typeof parseJsonPath>;
        try {
          parsed = parseJsonPath(text);
        } catch (error) {
          expect(error).toBeInstanceOf(JsonPathSyntaxError);
          return;
        }
        expect(parsed.steps).toBeLessThanOrEqual(2 * text.length + 1);
        const b = new JsonPathBudget(20_000, 5_000);
        try {
          evaluate(parsed.query, doc, b);
        } catch (error) {
          expect(error).toBeInstanceOf(JsonPathBudgetError);
        }
        // A charge may overshoot by one string's length at most (length() and string order).
        expect(b.steps).toBeLessThanOrEqual(20_000 + 100);
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });
});
