/**
 * IAM policy evaluation for the deploy simulation: does a role's identity policy allow an action on
 * a resource? An explicit Deny wins, then any Allow whose action and resource patterns (with `*`
 * and `?` wildcards, actions case-insensitive) both match. A statement with a Condition allows only
 * when the call names its request context and the Condition is `StringEquals` on keys of that context
 * with equal values (e.g. `iam:PassedToService` of an iam:PassRole); any other Condition never allows
 * here, so the simulation stays strict.
 */
import type { PolicyStatement } from './template';

function wildcard(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

const cache = new Map<string, RegExp>();
function matches(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const key = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let re = cache.get(key);
  if (!re) cache.set(key, (re = wildcard(pattern, caseInsensitive ? 'i' : '')));
  return re.test(value);
}

export type Decision = 'allowed' | 'implicitDeny' | 'explicitDeny';

/** Whether a Condition holds in the request context: only `StringEquals` on keys the context names. */
function conditionHolds(condition: unknown, context: Readonly<Record<string, string>> | undefined): boolean {
  if (condition === undefined) return true;
  if (!context || typeof condition !== 'object' || condition === null) return false;
  const entries = Object.entries(condition as Record<string, unknown>);
  return entries.every(
    ([operator, keys]) =>
      operator === 'StringEquals' &&
      typeof keys === 'object' &&
      keys !== null &&
      Object.entries(keys).every(([key, value]) => context[key] !== undefined && context[key] === value),
  );
}

export function evaluate(
  statements: readonly PolicyStatement[],
  action: string,
  resource: string,
  context?: Readonly<Record<string, string>>,
): Decision {
  const applies = (s: PolicyStatement) =>
    s.Action.some((a) => matches(a, action, true)) && s.Resource.some((r) => matches(r, resource, false));
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return 'explicitDeny';
  if (statements.some((s) => s.Effect === 'Allow' && conditionHolds(s.Condition, context) && applies(s)))
    return 'allowed';
  return 'implicitDeny';
}
