/**
 * Whether a request is light or heavy for cooperative turns (functions/runtime/turns.ts), from its
 * shape alone, before any of it is parsed: heavy are a body over {@link HEAVY_BODY_BYTES}, a page
 * over {@link HEAVY_PAGE_SIZE} devices, and a JSONPath expression that is more than a path of names
 * and indexes (with a comparison to a literal, as Lamassu filters write it): descendant segments,
 * wildcards, filter selectors and functions visit many nodes per device. Only a scheduling hint:
 * validation and budgets are the same for both (docs/bounded-cost.md).
 */
import type { RequestWeight } from '../runtime/turns';

/** Larger bodies than the largest metadata document (16 KiB) are heavy: certificates in bulk, deep JSON. */
export const HEAVY_BODY_BYTES = 16 * 1024;
/** Pages of more devices than this are heavy. */
export const HEAVY_PAGE_SIZE = 100;
/** Longer expressions are refused anyway (docs/bounded-cost.md); left unparsed here. */
const MAX_EXPRESSION = 500;

const NAME_PATH = String.raw`\$(?:\.[A-Za-z_][\w-]*|\[(?:'[^']*'|"[^"]*"|\d+)\])*`;
const LITERAL = String.raw`"[^"]*"|'[^']*'|-?\d+(?:\.\d+)?|true|false|null`;
/** A singular path, optionally compared with a literal; no part can match another's text, so linear. */
const SIMPLE_EXPRESSION = new RegExp(`^${NAME_PATH}(?:\\s*(?:==|!=|<=|>=|<|>)\\s*(?:${LITERAL}))?$`);
const JSONPATH_MARK = '[jsonpath]';

function heavyExpression(value: string): boolean {
  const at = value.indexOf(JSONPATH_MARK);
  if (at < 0) return false;
  const expression = value.slice(at + JSONPATH_MARK.length).trim();
  return expression.length > MAX_EXPRESSION || !SIMPLE_EXPRESSION.test(expression);
}

export interface RequestShape {
  /** Characters of the body as received (base64 or text). */
  bodyLength: number;
  query: URLSearchParams;
}

export function requestWeight({ bodyLength, query }: RequestShape): RequestWeight {
  if (bodyLength > HEAVY_BODY_BYTES) return 'heavy';
  for (const [name, value] of query) {
    if (name === 'page_size' && Number(value) > HEAVY_PAGE_SIZE) return 'heavy';
    if (heavyExpression(value)) return 'heavy';
  }
  return 'light';
}
