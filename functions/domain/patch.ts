/** PATCH semantics for the device shadow: RFC 7396 merge patch and RFC 6902 JSON patch. */
import { applyPatch, type Operation } from 'fast-json-patch';
import type { DeviceShadow } from './device';
import { ValidationError, type FieldProblem } from './errors';
import { MAX_METADATA_DEPTH, nestsDeeper, problemsOf, shadowSchema } from './schemas';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

const PATCHABLE = ['tags', 'metadata', 'icon', 'icon_color'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * RFC 7396: objects merge recursively, `null` removes a member, anything else replaces. Keys are
 * own keys only: `__proto__` or `toString` are written and read as plain members.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else
      Object.defineProperty(result, key, {
        value: mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return result;
}

/** Whether every step of a JSON pointer (RFC 6901) names an own member (or an array index) of `doc`. */
function ownPointer(doc: unknown, pointer: string): boolean {
  let node = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return false;
    if (Array.isArray(node) ? !/^(0|[1-9]\d*)$/.test(key) || Number(key) >= node.length : !Object.hasOwn(node, key))
      return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/** The pointer an operation reads an existing member at (remove, replace, test: path; move, copy: from). */
function readPointer(op: Record<string, unknown>): { field: 'path' | 'from'; pointer: unknown } | undefined {
  if (op.op === 'remove' || op.op === 'replace' || op.op === 'test') return { field: 'path', pointer: op.path };
  if (op.op === 'move' || op.op === 'copy') return { field: 'from', pointer: op.from };
  return undefined;
}

const tooDeep = () =>
  new ValidationError('patched device is invalid', [
    { field: 'metadata', problem: `nests deeper than ${MAX_METADATA_DEPTH} levels` },
  ]);

function validated(candidate: unknown): DeviceShadow {
  const parsed = shadowSchema.safeParse(candidate);
  if (!parsed.success) throw new ValidationError('patched device is invalid', problemsOf(parsed.error));
  // The validated input itself: zod's copy would drop an own `__proto__` key.
  return { ...parsed.data, tags: [...new Set(parsed.data.tags)], metadata: (candidate as DeviceShadow).metadata };
}

/**
 * Applies a patch of the given media type to the shadow and returns the validated result.
 * Only `tags`, `metadata`, `icon` and `icon_color` may be touched; anything else is a 400.
 */
export function applyShadowPatch(shadow: DeviceShadow, mediaType: string, patch: unknown): DeviceShadow {
  const base = structuredClone(shadow);
  if (mediaType === MERGE_PATCH) {
    if (!isObject(patch))
      throw new ValidationError('a merge patch must be a JSON object', [
        { field: '(body)', problem: 'expected an object' },
      ]);
    const unknown = Object.keys(patch).filter((k) => !PATCHABLE.includes(k));
    if (unknown.length > 0)
      throw new ValidationError(
        'only tags, metadata, icon and icon_color can be patched',
        unknown.map((k) => ({ field: k, problem: 'not patchable' })),
      );
    const removed = PATCHABLE.filter((k) => k !== 'metadata' && patch[k] === null);
    if (removed.length > 0)
      throw new ValidationError(
        'required fields cannot be removed',
        removed.map((k) => ({ field: k, problem: 'cannot be null' })),
      );
    // Checked before mergePatch recurses into it: a metadata nested thousands deep is a 400, not a stack overflow.
    if (nestsDeeper(patch.metadata, MAX_METADATA_DEPTH)) throw tooDeep();
    return validated(mergePatch(base, patch));
  }
  if (!Array.isArray(patch))
    throw new ValidationError('a JSON patch must be an array of operations', [
      { field: '(body)', problem: 'expected an array' },
    ]);
  const problems = patch.flatMap((op: unknown, i) => {
    if (!isObject(op) || typeof op.path !== 'string')
      return [{ field: `[${i}]`, problem: 'not a JSON patch operation' }];
    const top = op.path.split('/')[1] ?? '';
    const from = typeof op.from === 'string' ? (op.from.split('/')[1] ?? '') : undefined;
    const bad: FieldProblem[] = [];
    if (!PATCHABLE.includes(top)) bad.push({ field: `[${i}].path`, problem: `'${op.path}' is not a patchable path` });
    if (from !== undefined && !PATCHABLE.includes(from))
      bad.push({ field: `[${i}].from`, problem: `'${String(op.from)}' is not a patchable path` });
    return bad;
  });
  if (problems.length > 0)
    throw new ValidationError('only tags, metadata, icon and icon_color can be patched', problems);
  // A value too deep for any patchable field: refused before the patch library walks it recursively.
  if (patch.some((op: Record<string, unknown>) => nestsDeeper(op.value, MAX_METADATA_DEPTH))) throw tooDeep();
  try {
    // One operation at a time, so each pointer is checked against the document it applies to.
    let doc: unknown = base;
    (patch as Record<string, unknown>[]).forEach((op, i) => {
      const reads = readPointer(op);
      if (reads && typeof reads.pointer === 'string' && !ownPointer(doc, reads.pointer))
        throw new ValidationError('JSON patch could not be applied', [
          { field: `[${i}].${reads.field}`, problem: `'${reads.pointer}' does not exist` },
        ]);
      doc = applyPatch(doc, [op as unknown as Operation], true, true).newDocument;
    });
    return validated(doc);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // fast-json-patch throws JsonPatchError for invalid operations and failed `test`s.
    const message = error instanceof Error ? error.message.split('\n')[0]! : 'invalid JSON patch';
    throw new ValidationError('JSON patch could not be applied', [{ field: '(body)', problem: message }]);
  }
}
