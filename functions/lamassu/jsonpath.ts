/**
 * Lamassu's `metadata[jsonpath]<expr>` filters and `sort_by=metadata[jsonpath]<expr>` sorts.
 * Lamassu hands the expression to PostgreSQL; here the path is RFC 9535 JSONPath, parsed and
 * evaluated by the bounded engine of jsonpath-engine.ts (no regular expressions, every node visited
 * charged to the request's budget). A device matches when the path selects at least one value
 * (`$.env`, `$.tags[?(@.key == "production")]`) or, for a predicate `<path> <op> <JSON literal>`
 * (`$.firmware == "1.4.2"`, `$.battery < 20`, PostgreSQL's form), when one selected value
 * satisfies it.
 */
import { evaluate, JsonPathBudget, JsonPathSyntaxError, parseJsonPath, type Query } from './jsonpath-engine';

export { JsonPathBudget, JsonPathBudgetError } from './jsonpath-engine';

export const MAX_JSONPATH_LENGTH = 500;
/** Nodes one request's JSONPath filters and sorts may visit, produce or compare, all devices together. */
export const JSONPATH_MAX_STEPS = 1_000_000;
/** The largest node list one selection may hold. */
export const JSONPATH_MAX_NODES = 10_000;
const OPERATORS = ['==', '!=', '<=', '>=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

export interface JsonPathPredicate {
  path: Query;
  comparison?: { op: Operator; value: unknown };
}

/** A budget for one request: JSONPATH_MAX_STEPS steps and JSONPATH_MAX_NODES nodes until `deadline`. */
export const jsonPathBudget = (deadline?: number, now?: () => number) =>
  new JsonPathBudget(JSONPATH_MAX_STEPS, JSONPATH_MAX_NODES, deadline, now);

/** Splits `path op literal` at the first operator outside brackets, parentheses and quotes. */
function splitComparison(expr: string): { path: string; op: Operator; literal: string } | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (depth === 0) {
      const op = OPERATORS.find((o) => expr.startsWith(o, i));
      if (op) return { path: expr.slice(0, i).trim(), op, literal: expr.slice(i + op.length).trim() };
    }
  }
  return undefined;
}

/** Compiles an expression; a string result is the problem (the caller answers 400 naming it). */
export function compileJsonPath(raw: string): JsonPathPredicate | string {
  let expr = raw.trim();
  if (expr.length === 0 || expr.length > MAX_JSONPATH_LENGTH)
    return `a JSONPath expression of 1 to ${MAX_JSONPATH_LENGTH} characters is required`;
  const exists = /^exists\s*\((.*)\)$/s.exec(expr);
  if (exists) expr = exists[1]!.trim();
  const split = splitComparison(expr);
  const path = split ? split.path : expr;
  if (!path.startsWith('$')) return `'${raw}' is not a JSONPath expression (it must start with $)`;
  let comparison: JsonPathPredicate['comparison'];
  if (split) {
    try {
      comparison = { op: split.op, value: JSON.parse(split.literal.replace(/^'(.*)'$/s, '"$1"')) };
    } catch {
      return `'${split.literal}' is not a JSON literal`;
    }
  }
  try {
    return { path: parseJsonPath(path).query, ...(comparison ? { comparison } : {}) };
  } catch (error) {
    if (error instanceof JsonPathSyntaxError) return `'${raw}' is not a valid JSONPath expression: ${error.message}`;
    throw error;
  }
}

/** The values a path selects in a document (none when the document is not an object or array). */
export function select(path: Query, json: unknown, budget: JsonPathBudget): unknown[] {
  if (json === null || typeof json !== 'object') return [];
  return evaluate(path, json, budget);
}

function compare(a: unknown, op: Operator, b: unknown): boolean {
  if (op === '==') return JSON.stringify(a) === JSON.stringify(b);
  if (op === '!=') return JSON.stringify(a) !== JSON.stringify(b);
  // Ordering compares numbers with numbers and strings with strings, like PostgreSQL's jsonpath.
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')))
    return false;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

export function matchesJsonPath(predicate: JsonPathPredicate, json: unknown, budget: JsonPathBudget): boolean {
  const values = select(predicate.path, json, budget);
  const { comparison } = predicate;
  return comparison ? values.some((v) => compare(v, comparison.op, comparison.value)) : values.length > 0;
}

/**
 * Orders values for a sort: numbers, then strings, then other JSON (as text); a missing value
 * (undefined) sorts last, like NULLS LAST.
 */
export function compareSortValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) => (v === undefined ? 3 : typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  const sa = ra === 1 ? (a as string) : (JSON.stringify(a) ?? '');
  const sb = rb === 1 ? (b as string) : (JSON.stringify(b) ?? '');
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
