/**
 * Parses each expression once: dynalite runs a PEG parser over every ConditionExpression,
 * UpdateExpression, KeyConditionExpression, FilterExpression and ProjectionExpression of every
 * request, and that parse is most of the engine's CPU for a transaction (a device change repeats
 * the same few expressions with new values). DynamoDB's own work is not on the caller's machine; the
 * engine's should be as small as it can be, so a local run measures the application, not dynalite.
 *
 * A parse depends on the expression text, the attribute names it resolves, and only the types of
 * the values it resolves (the parsers check types; they embed each value object in the tree as it
 * is), except for BETWEEN (which compares its bounds) and attribute_type (which reads its value):
 * expressions with those are always parsed. The cached tree holds a placeholder for each value and
 * is copied with the request's values put in, so no request sees another's values and a caller may
 * change its tree. Which names and values the expression uses is recorded (parsed with every name
 * and value unused) and replayed, so dynalite's "unused in expressions" errors stay exact. Failed
 * parses are not cached: their error messages come from dynalite each time.
 */
import { createRequire } from 'node:module';
import type { WireValue } from './dynalite';

const load = createRequire(__filename);

interface ParseContext {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, WireValue>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  isKeyCondition?: boolean;
}

interface Parser {
  parse(input: string, options: { context: ParseContext }): unknown;
}

/** Where a request's value goes in a cached tree. */
class ValueSlot {
  constructor(readonly name: string) {}
}

interface Template {
  tree: unknown;
  usedNames: string[];
  usedVals: string[];
}

/** Bounded: an application has a handful of expressions; values never reach the key. */
const MAX_ENTRIES = 2000;
const UNCACHEABLE = /between|attribute_type/i;
const INSTALLED = Symbol.for('device-manager.local-engine.expression-cache');

/** The engine's counts: parses served from the cache and parses run (tests assert the cache is used). */
export const expressionCacheCounts = { hits: 0, parses: 0 };

/** Copies a tree, replacing what `swap` maps (value objects ↔ slots); other objects and arrays are copied. */
function copyTree(node: unknown, swap: (value: object) => unknown): unknown {
  if (node === null || typeof node !== 'object') return node;
  const swapped = swap(node);
  if (swapped !== undefined) return swapped;
  if (Array.isArray(node)) return node.map((child) => copyTree(child, swap));
  const copy: Record<string, unknown> = Object.getPrototypeOf(node) === null ? Object.create(null) : {};
  for (const key of Object.keys(node)) copy[key] = copyTree((node as Record<string, unknown>)[key], swap);
  return copy;
}

const typeOf = (value: WireValue | undefined) => (value ? Object.keys(value).join('') : '');

function cached(parser: Parser): Parser['parse'] {
  const original = parser.parse.bind(parser);
  const templates = new Map<string, Template>();
  return (input, options) => {
    const context = options.context;
    if (UNCACHEABLE.test(input)) return original(input, options);
    const names = context.attrNames ?? {};
    const vals = context.attrVals ?? {};
    const key = [
      input,
      context.isKeyCondition ? 'key' : '',
      JSON.stringify(names),
      Object.keys(vals)
        .map((name) => `${name}=${typeOf(vals[name])}`)
        .join(','),
    ].join('\u0000');
    const template = templates.get(key);
    if (template) {
      expressionCacheCounts.hits++;
      for (const name of template.usedNames) delete context.unusedAttrNames?.[name];
      for (const name of template.usedVals) delete context.unusedAttrVals?.[name];
      return copyTree(template.tree, (node) => (node instanceof ValueSlot ? vals[node.name] : undefined));
    }
    expressionCacheCounts.parses++;
    // Parsed with every name and value unused, so what this expression uses is known in full.
    const allNames = Object.fromEntries(Object.keys(names).map((n) => [n, true]));
    const allVals = Object.fromEntries(Object.keys(vals).map((n) => [n, true]));
    const fresh = { ...context, unusedAttrNames: { ...allNames }, unusedAttrVals: { ...allVals } };
    // Reached only when the parse succeeds (a failure throws, and is not cached).
    const tree = original(input, { context: fresh });
    const usedNames = Object.keys(allNames).filter((n) => !(n in fresh.unusedAttrNames));
    const usedVals = Object.keys(allVals).filter((n) => !(n in fresh.unusedAttrVals));
    for (const name of usedNames) delete context.unusedAttrNames?.[name];
    for (const name of usedVals) delete context.unusedAttrVals?.[name];
    const slots = new Map<object, ValueSlot>(Object.keys(vals).map((name) => [vals[name]!, new ValueSlot(name)]));
    if (templates.size >= MAX_ENTRIES) templates.clear();
    templates.set(key, { tree: copyTree(tree, (node) => slots.get(node)), usedNames, usedVals });
    return tree;
  };
}

/** Wraps dynalite's expression parsers (shared by every dynalite instance of the process) once. */
export function installExpressionCache(): void {
  for (const name of ['conditionParser', 'updateParser', 'projectionParser']) {
    const parser = load(`dynalite/db/${name}`) as Parser & { [INSTALLED]?: true };
    if (parser[INSTALLED]) continue;
    parser.parse = cached(parser);
    parser[INSTALLED] = true;
  }
}
