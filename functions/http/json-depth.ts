/**
 * A cheap linear pre-scan of a JSON body's nesting, run before `JSON.parse`: V8 parses deeply nested
 * text far slower than flat text of the same size (superlinear in the depth), and on the local
 * service that parse is one stretch of the event loop no other request can interrupt. No body the
 * API accepts nests deeper than a dozen levels (metadata: 8, inside a JSON Patch operation), so a
 * body past {@link MAX_BODY_DEPTH} is refused at the first container over the limit, before any of
 * it is parsed (docs/bounded-cost.md).
 */

/** Containers (objects and arrays) a JSON body may nest, the body itself being level 1. */
export const MAX_BODY_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

export interface DepthScan {
  /** Whether the text nests deeper than the limit. */
  tooDeep: boolean;
  /** The body's top-level member holding the over-deep container (`(body)` when the body is no object). */
  field: string;
  /** Characters examined one by one (string contents are skipped by a native search, not counted). */
  steps: number;
}

/** The index of the quote closing the string opened at `from - 1`, or -1 when it is never closed. */
function closingQuote(text: string, from: number): number {
  for (let at = text.indexOf('"', from); at >= 0; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

/**
 * Scans `text` for containers nested deeper than `max`, stopping at the first one. Linear: each
 * character is examined at most once, outside strings, and strings are skipped by `indexOf`.
 * Malformed text is not judged here (JSON.parse refuses it after).
 */
export function scanDepth(text: string, max = MAX_BODY_DEPTH): DepthScan {
  let depth = 0;
  let steps = 0;
  let bodyIsObject = false;
  /** The last string closed at level 1, and the member it names once a colon follows. */
  let lastTopString: string | undefined;
  let member: string | undefined;
  for (let i = 0; i < text.length; i++) {
    steps++;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i + 1);
      if (end < 0) break;
      if (depth === 1 && bodyIsObject) lastTopString = text.slice(i + 1, end);
      i = end;
    } else if (c === COLON) {
      if (depth === 1 && bodyIsObject) member = lastTopString;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0) bodyIsObject = c === OPEN_BRACE;
      if (++depth > max) return { tooDeep: true, field: bodyIsObject && member ? unescaped(member) : '(body)', steps };
    } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && depth > 0) depth--;
  }
  return { tooDeep: false, field: '(body)', steps };
}

/** A member name's text as JSON reads it (escapes resolved), or as written when it does not parse. */
function unescaped(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
