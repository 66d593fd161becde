/**
 * EventBridge event patterns (also the syntax of Lambda event source filters): the subset the
 * simulation needs. An operator it does not know throws instead of silently matching.
 */
type Pattern = Record<string, unknown>;

function matchValue(rule: unknown, value: unknown, present: boolean): boolean {
  if (rule === null || typeof rule !== 'object')
    return present && (Array.isArray(value) ? value.some((v) => v === rule) : value === rule);
  const op = rule as Record<string, unknown>;
  const [name] = Object.keys(op);
  const arg = op[name!];
  const values = Array.isArray(value) ? value : [value];
  switch (name) {
    case 'prefix':
      return present && values.some((v) => typeof v === 'string' && v.startsWith(String(arg)));
    case 'suffix':
      return present && values.some((v) => typeof v === 'string' && v.endsWith(String(arg)));
    case 'exists':
      return arg === present;
    case 'equals-ignore-case':
      return present && values.some((v) => typeof v === 'string' && v.toLowerCase() === String(arg).toLowerCase());
    case 'anything-but': {
      const excluded = Array.isArray(arg) ? arg : [arg];
      return present && values.every((v) => !excluded.includes(v));
    }
    default:
      throw new Error(`the simulation does not know the event pattern operator ${JSON.stringify(op)}`);
  }
}

/** True when `event` matches `pattern` (every key; a list matches if any of its entries does). */
export function matchesPattern(pattern: Pattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const present = event !== null && typeof event === 'object' && key in event;
    const value = present ? event[key] : undefined;
    if (Array.isArray(rule)) return rule.some((r) => matchValue(r, value, present));
    if (rule !== null && typeof rule === 'object')
      return (
        present &&
        value !== null &&
        typeof value === 'object' &&
        matchesPattern(rule as Pattern, value as Record<string, unknown>)
      );
    throw new Error(`event pattern value for ${key} must be a list or an object`);
  });
}
