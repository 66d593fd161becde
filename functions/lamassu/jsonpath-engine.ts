/**
 * A bounded JSONPath (RFC 9535) parser and evaluator, written here because the libraries at hand
 * are not bounded: jsonpath-plus runs regex literals and string methods from the expression, and
 * the Peggy parser of jsonpath-rfc9535 backtracks exponentially on unclosed nested function calls
 * (`length(length(…` of 76 characters parses for 18 s).
 *
 * - The parser is recursive descent with one character of lookahead: each character is consumed
 *   once, so its work is linear in the expression (counted in `ParseResult.steps`), and nesting is
 *   capped at MAX_NESTING.
 * - `match()` and `search()` are refused: they run regular expressions chosen by the caller, and
 *   JavaScript has no linear-time regex engine without native addons. `length`, `count` and `value`
 *   are supported (all linear).
 * - The evaluator has no recursion over the document (descendants are walked with an explicit
 *   stack) and charges every node visited, produced or compared to a `JsonPathBudget`: steps, node
 *   list size and a deadline. Overrunning any of them throws JsonPathBudgetError.
 */

export type Query = { kind: 'query'; root: '$' | '@'; segments: Segment[]; singular: boolean };
type Segment = { descendant: boolean; selectors: Selector[] };
type Selector =
  | { kind: 'name'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start: number | null; end: number | null; step: number | null }
  | { kind: 'filter'; expr: Logical };
type Literal = { kind: 'literal'; value: string | number | boolean | null };
type FunctionCall = { kind: 'function'; name: 'length' | 'count' | 'value'; arg: Literal | Query | FunctionCall };
type Comparable = Literal | Query | FunctionCall;
type Logical =
  | { kind: 'or' | 'and'; left: Logical; right: Logical }
  | { kind: 'not'; expr: Logical }
  | { kind: 'test'; query: Query }
  | { kind: 'compare'; op: ComparisonOp; left: Comparable; right: Comparable };
export type ComparisonOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export const MAX_NESTING = 12;
const MAX_SAFE = 2 ** 53 - 1;

export class JsonPathSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(`${message} at position ${at}`);
  }
}

export class JsonPathBudgetError extends Error {}

/** What one request may spend on JSONPath evaluation, shared by every document it evaluates. */
export class JsonPathBudget {
  /** Steps spent so far (nodes visited, produced or compared). */
  steps = 0;
  constructor(
    readonly maxSteps: number,
    /** Largest node list one selection may hold. */
    readonly maxNodes: number,
    /** Epoch milliseconds after which evaluation stops. */
    readonly deadline = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  charge(n = 1): void {
    this.steps += n;
    if (this.steps > this.maxSteps)
      throw new JsonPathBudgetError(`the JSONPath filters visited more than ${this.maxSteps} nodes`);
    // The clock is read every 1,024 steps, not every step.
    if ((this.steps & 1023) < n && this.now() > this.deadline)
      throw new JsonPathBudgetError('the JSONPath filters ran past the request deadline');
  }

  holds(size: number): void {
    if (size > this.maxNodes)
      throw new JsonPathBudgetError(`a JSONPath selection held more than ${this.maxNodes} nodes`);
  }
}

// Parser.

const WS = new Set([' ', '\t', '\n', '\r']);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
/** name-first of RFC 9535: ALPHA, `_`, or any character from U+0080 (surrogate pairs included). */
const isNameFirst = (c: string | undefined) => c !== undefined && (isAlpha(c) || c === '_' || c.charCodeAt(0) >= 0x80);

export interface ParseResult {
  query: Query;
  /** Characters consumed plus nodes built: the parser's work, linear in the input. */
  steps: number;
}

/** Parses an absolute query (`$...`); a problem is a JsonPathSyntaxError. */
export function parseJsonPath(text: string): ParseResult {
  const p = new Parser(text);
  const query = p.query();
  p.end();
  return { query, steps: p.steps };
}

class Parser {
  pos = 0;
  steps = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  private fail(message: string): never {
    throw new JsonPathSyntaxError(message, this.pos);
  }
  private peek(offset = 0): string | undefined {
    return this.s[this.pos + offset];
  }
  private next(): string {
    const c = this.s[this.pos];
    if (c === undefined) this.fail('unexpected end of expression');
    this.pos++;
    this.steps++;
    return c;
  }
  private expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected '${c}'`);
    this.next();
  }
  private ws(): void {
    while (WS.has(this.peek() ?? '')) this.next();
  }
  private enter(): void {
    if (++this.depth > MAX_NESTING) this.fail(`nesting deeper than ${MAX_NESTING}`);
  }
  private leave(): void {
    this.depth--;
  }

  /** RFC 9535 allows no whitespace around the query (callers trim what they accept). */
  end(): void {
    if (this.pos < this.s.length) this.fail(`unexpected '${this.s[this.pos]}'`);
  }

  query(root: '$' | '@' = '$'): Query {
    this.expect(root);
    const segments: Segment[] = [];
    for (;;) {
      const save = this.pos;
      this.ws();
      const c = this.peek();
      if (c === '[') segments.push({ descendant: false, selectors: this.bracketed() });
      else if (c === '.' && this.peek(1) === '.') {
        this.next();
        this.next();
        if (this.peek() === '[') segments.push({ descendant: true, selectors: this.bracketed() });
        else segments.push({ descendant: true, selectors: [this.dotted()] });
      } else if (c === '.') {
        this.next();
        segments.push({ descendant: false, selectors: [this.dotted()] });
      } else {
        this.pos = save; // whitespace belongs to what follows the query
        break;
      }
      this.steps++;
    }
    const singular = segments.every(
      (s) =>
        !s.descendant &&
        s.selectors.length === 1 &&
        (s.selectors[0]!.kind === 'name' || s.selectors[0]!.kind === 'index'),
    );
    return { kind: 'query', root, segments, singular };
  }

  /** After `.` or `..`: `*` or a member name shorthand. */
  private dotted(): Selector {
    if (this.peek() === '*') {
      this.next();
      return { kind: 'wildcard' };
    }
    if (!isNameFirst(this.peek())) this.fail('expected a member name or *');
    const start = this.pos;
    while (isNameFirst(this.peek()) || isDigit(this.peek())) this.next();
    const name = this.s.slice(start, this.pos);
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name))
      this.fail('a lone surrogate in a member name');
    return { kind: 'name', name };
  }

  private bracketed(): Selector[] {
    this.expect('[');
    this.enter();
    const selectors: Selector[] = [];
    do {
      this.ws();
      selectors.push(this.selector());
      this.ws();
    } while (this.peek() === ',' && this.next());
    this.expect(']');
    this.leave();
    return selectors;
  }

  private selector(): Selector {
    const c = this.peek();
    if (c === "'" || c === '"') return { kind: 'name', name: this.string() };
    if (c === '*') {
      this.next();
      return { kind: 'wildcard' };
    }
    if (c === '?') {
      this.next();
      this.ws();
      return { kind: 'filter', expr: this.logical() };
    }
    const start = c === ':' ? null : this.int();
    this.ws();
    if (this.peek() !== ':') {
      if (start === null) this.fail('expected a selector');
      return { kind: 'index', index: start };
    }
    this.next();
    this.ws();
    const end = this.peek() === '-' || isDigit(this.peek()) ? this.int() : null;
    this.ws();
    let step: number | null = null;
    if (this.peek() === ':') {
      this.next();
      this.ws();
      if (this.peek() === '-' || isDigit(this.peek())) step = this.int();
    }
    return { kind: 'slice', start, end, step };
  }

  /** `-?(0|[1-9][0-9]*)`, consumed; returns where it started. `-0` is a number but not an integer. */
  private integerPart(what: 'an integer' | 'a number'): number {
    const start = this.pos;
    if (this.peek() === '-') this.next();
    if (!isDigit(this.peek())) this.fail(`expected ${what}`);
    if (this.peek() === '0') {
      this.next();
      if (isDigit(this.peek())) this.fail(`${what} cannot start with 0`);
      if (what === 'an integer' && this.s[start] === '-') this.fail('an integer cannot be -0');
    } else while (isDigit(this.peek())) this.next();
    return start;
  }

  private int(): number {
    const start = this.integerPart('an integer');
    const n = Number(this.s.slice(start, this.pos));
    if (Math.abs(n) > MAX_SAFE) this.fail('an integer outside the I-JSON range');
    return n;
  }

  private string(): string {
    const quote = this.next();
    let out = '';
    for (;;) {
      const c = this.next();
      if (c === quote) return out;
      const code = c.charCodeAt(0);
      if (code < 0x20) this.fail('a control character in a string');
      if (c !== '\\') {
        if (code >= 0xd800 && code <= 0xdbff) {
          const low = this.peek()?.charCodeAt(0) ?? 0;
          if (low < 0xdc00 || low > 0xdfff) this.fail('a lone surrogate in a string');
          out += c + this.next();
        } else if (code >= 0xdc00 && code <= 0xdfff) this.fail('a lone surrogate in a string');
        else out += c;
        continue;
      }
      const e = this.next();
      const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\' };
      if (Object.hasOwn(simple, e)) out += simple[e];
      else if (e === quote) out += quote;
      else if (e === 'u') {
        const unit = this.hex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('a lone low surrogate escape');
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (this.peek() !== '\\' || this.peek(1) !== 'u') this.fail('a high surrogate escape without its low half');
          this.next();
          this.next();
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) this.fail('a high surrogate escape without its low half');
          out += String.fromCharCode(unit, low);
        } else out += String.fromCharCode(unit);
      } else this.fail(`an invalid escape \\${e}`);
    }
  }

  private hex4(): number {
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.next();
      const d = Number.parseInt(c, 16);
      if (Number.isNaN(d)) this.fail('expected 4 hex digits');
      n = n * 16 + d;
    }
    return n;
  }

  // Filter expressions.

  private logical(): Logical {
    this.enter();
    const expr = this.chain('||', 'or', () => this.chain('&&', 'and', () => this.basic()));
    this.leave();
    return expr;
  }

  /** `operand (op operand)*`, left-associative: `||` over `&&` over basic expressions. */
  private chain(op: '||' | '&&', kind: 'or' | 'and', operand: () => Logical): Logical {
    let left = operand();
    for (;;) {
      const save = this.pos;
      this.ws();
      if (!this.s.startsWith(op, this.pos)) {
        this.pos = save;
        return left;
      }
      this.next();
      this.next();
      this.ws();
      left = { kind, left, right: operand() };
      this.steps++;
    }
  }

  private basic(): Logical {
    if (this.peek() === '!' && this.peek(1) !== '=') {
      this.next();
      this.ws();
      if (this.peek() === '(') return { kind: 'not', expr: this.paren() };
      const operand = this.primary();
      if (operand.kind !== 'query') this.fail('! applies to a query or a parenthesised expression');
      return { kind: 'not', expr: { kind: 'test', query: operand } };
    }
    if (this.peek() === '(') return this.paren();
    const left = this.primary();
    const save = this.pos;
    this.ws();
    const op = this.comparisonOp();
    if (!op) {
      this.pos = save;
      if (left.kind === 'query') return { kind: 'test', query: left };
      this.fail(
        left.kind === 'literal' ? 'a literal alone is not a test' : `${left.name}() is a value, not a test: compare it`,
      );
    }
    this.ws();
    const right = this.primary();
    for (const side of [left, right])
      if (side.kind === 'query' && !side.singular)
        this.fail('only singular queries (names and indexes) can be compared');
    this.steps++;
    return { kind: 'compare', op, left, right };
  }

  private paren(): Logical {
    this.expect('(');
    this.ws();
    const expr = this.logical();
    this.ws();
    this.expect(')');
    return expr;
  }

  private comparisonOp(): ComparisonOp | undefined {
    for (const op of ['==', '!=', '<=', '>=', '<', '>'] as const) {
      if (this.s.startsWith(op, this.pos)) {
        for (let i = 0; i < op.length; i++) this.next();
        return op;
      }
    }
    return undefined;
  }

  /** A literal, a query, or a function call. */
  private primary(): Comparable {
    const c = this.peek();
    if (c === '@' || c === '$') return this.query(c);
    if (c === "'" || c === '"') return { kind: 'literal', value: this.string() };
    if (c === '-' || isDigit(c)) return { kind: 'literal', value: this.number() };
    const start = this.pos;
    while (isAlpha(this.peek()) || isDigit(this.peek()) || this.peek() === '_') this.next();
    const word = this.s.slice(start, this.pos);
    if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true' };
    if (word === 'null') return { kind: 'literal', value: null };
    if (word === '') this.fail('expected a query, a literal or a function');
    if (this.peek() !== '(') this.fail(`unknown word '${word}'`);
    if (word === 'match' || word === 'search')
      this.fail(`${word}() is not supported (regular expressions are not evaluated)`);
    if (word !== 'length' && word !== 'count' && word !== 'value') this.fail(`unknown function ${word}()`);
    this.next();
    this.enter();
    this.ws();
    const arg = this.primary();
    this.ws();
    this.expect(')');
    this.leave();
    // length() takes a value; count() and value() take a node list (RFC 9535 2.4.4-2.4.8).
    if (word === 'length' && arg.kind === 'query' && !arg.singular)
      this.fail('length() takes a value: a singular query, a literal or value()');
    if (word !== 'length' && arg.kind !== 'query') this.fail(`${word}() takes a query`);
    this.steps++;
    return { kind: 'function', name: word, arg };
  }

  private number(): number {
    const start = this.integerPart('a number');
    if (this.peek() === '.') {
      this.next();
      if (!isDigit(this.peek())) this.fail('expected a digit after .');
      while (isDigit(this.peek())) this.next();
    }
    if (this.peek() === 'e' || this.peek() === 'E') {
      this.next();
      if (this.peek() === '+' || this.peek() === '-') this.next();
      if (!isDigit(this.peek())) this.fail('expected an exponent');
      while (isDigit(this.peek())) this.next();
    }
    return Number(this.s.slice(start, this.pos));
  }
}

// Evaluator.

type Json = unknown;
const NOTHING = Symbol('nothing');
type Value = Json | typeof NOTHING;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The values `query` selects in `root` (with `current` as `@`), in document order. */
export function evaluate(query: Query, root: Json, budget: JsonPathBudget, current: Json = root): Json[] {
  let nodes: Json[] = [query.root === '$' ? root : current];
  for (const segment of query.segments) {
    const out: Json[] = [];
    for (const node of nodes) {
      if (segment.descendant) {
        // Pre-order walk with an explicit stack: no recursion however deep the document.
        const stack: Json[] = [node];
        while (stack.length > 0) {
          const n = stack.pop();
          budget.charge();
          select(segment.selectors, n, root, budget, out);
          const children = childrenOf(n);
          for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
          budget.holds(stack.length);
        }
      } else select(segment.selectors, node, root, budget, out);
    }
    nodes = out;
    if (nodes.length === 0) break;
  }
  return nodes;
}

function childrenOf(node: Json): Json[] {
  if (Array.isArray(node)) return node;
  if (isObject(node)) return Object.values(node);
  return [];
}

function select(selectors: Selector[], node: Json, root: Json, budget: JsonPathBudget, out: Json[]): void {
  const push = (v: Json) => {
    budget.charge();
    out.push(v);
    budget.holds(out.length);
  };
  for (const sel of selectors) {
    switch (sel.kind) {
      case 'name':
        if (isObject(node) && Object.hasOwn(node, sel.name)) push(node[sel.name]);
        break;
      case 'wildcard':
        for (const child of childrenOf(node)) push(child);
        break;
      case 'index':
        if (Array.isArray(node)) {
          const i = sel.index < 0 ? node.length + sel.index : sel.index;
          if (i >= 0 && i < node.length) push(node[i]);
        }
        break;
      case 'slice':
        if (Array.isArray(node)) for (const i of sliceIndexes(sel, node.length)) push(node[i]);
        break;
      case 'filter':
        for (const child of childrenOf(node)) {
          budget.charge();
          if (test(sel.expr, root, child, budget)) push(child);
        }
        break;
    }
  }
}

/** RFC 9535 2.3.4.2.2: the indexes a slice selects, in order. */
function* sliceIndexes(
  sel: { start: number | null; end: number | null; step: number | null },
  len: number,
): Generator<number> {
  const step = sel.step ?? 1;
  if (step === 0) return;
  const norm = (i: number) => (i >= 0 ? i : len + i);
  if (step > 0) {
    const lower = Math.min(Math.max(norm(sel.start ?? 0), 0), len);
    const upper = Math.min(Math.max(norm(sel.end ?? len), 0), len);
    for (let i = lower; i < upper; i += step) yield i;
  } else {
    const upper = Math.min(Math.max(norm(sel.start ?? len - 1), -1), len - 1);
    const lower = Math.min(Math.max(sel.end === null ? -1 : norm(sel.end), -1), len - 1);
    for (let i = upper; lower < i; i += step) yield i;
  }
}

function test(expr: Logical, root: Json, current: Json, budget: JsonPathBudget): boolean {
  switch (expr.kind) {
    case 'or':
      return test(expr.left, root, current, budget) || test(expr.right, root, current, budget);
    case 'and':
      return test(expr.left, root, current, budget) && test(expr.right, root, current, budget);
    case 'not':
      return !test(expr.expr, root, current, budget);
    case 'test':
      return evaluate(expr.query, root, budget, current).length > 0;
    case 'compare':
      return compareValues(
        valueOf(expr.left, root, current, budget),
        expr.op,
        valueOf(expr.right, root, current, budget),
        budget,
      );
  }
}

function valueOf(c: Comparable, root: Json, current: Json, budget: JsonPathBudget): Value {
  if (c.kind === 'literal') return c.value;
  if (c.kind === 'query') {
    const nodes = evaluate(c, root, budget, current);
    return nodes.length === 1 ? nodes[0] : NOTHING;
  }
  if (c.name === 'length') {
    const v = valueOf(c.arg, root, current, budget);
    if (typeof v === 'string') {
      budget.charge(v.length);
      let n = 0;
      for (const _ of v) n++;
      return n;
    }
    if (Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    return NOTHING;
  }
  const nodes = evaluate(c.arg as Query, root, budget, current);
  if (c.name === 'count') return nodes.length;
  return nodes.length === 1 ? nodes[0] : NOTHING;
}

/** RFC 9535 2.3.5.2.2 comparisons; `Nothing` equals only `Nothing`. */
export function compareValues(a: Value, op: ComparisonOp, b: Value, budget: JsonPathBudget): boolean {
  switch (op) {
    case '==':
      return equal(a, b, budget);
    case '!=':
      return !equal(a, b, budget);
    case '<':
      return less(a, b, budget);
    case '>':
      return less(b, a, budget);
    case '<=':
      return less(a, b, budget) || equal(a, b, budget);
    case '>=':
      return less(b, a, budget) || equal(a, b, budget);
  }
}

function less(a: Value, b: Value, budget: JsonPathBudget): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  if (typeof a === 'string' && typeof b === 'string') {
    budget.charge(Math.min(a.length, b.length));
    return compareCodePoints(a, b) < 0;
  }
  return false;
}

/** Orders strings by Unicode scalar values (JavaScript's `<` orders UTF-16 code units). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Deep equality without recursion, each pair compared charged to the budget. */
function equal(a: Value, b: Value, budget: JsonPathBudget): boolean {
  const stack: [Value, Value][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    budget.charge();
    if (x === y) continue;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
    } else if (isObject(x) && isObject(y)) {
      const kx = Object.keys(x);
      if (kx.length !== Object.keys(y).length) return false;
      for (const k of kx) {
        if (!Object.hasOwn(y, k)) return false;
        stack.push([x[k], y[k]]);
      }
    } else return false;
    budget.holds(stack.length);
  }
  return true;
}
