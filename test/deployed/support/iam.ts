/**
 * IAM policy evaluation for the deploy simulation: does a role's identity policy allow an action on
 * a resource? An explicit Deny wins, then any Allow whose action and resource patterns (with `*`
 * and `?` wildcards, actions case-insensitive) both match. A statement with a Condition never
 * allows here: the simulation knows no request context to evaluate it against, so it stays strict.
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

export function evaluate(statements: readonly PolicyStatement[], action: string, resource: string): Decision {
  const applies = (s: PolicyStatement) =>
    s.Action.some((a) => matches(a, action, true)) && s.Resource.some((r) => matches(r, resource, false));
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return 'explicitDeny';
  if (statements.some((s) => s.Effect === 'Allow' && !s.Condition && applies(s))) return 'allowed';
  return 'implicitDeny';
}
