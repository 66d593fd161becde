/**
 * EventBridge event patterns, also the syntax of a Lambda event source mapping's filter criteria: the
 * subset the engine's stream feeds (`filters`) and the deployed simulation's rules need. An operator
 * this does not know throws instead of silently matching.
 */
export type EventPattern = Record<string, unknown>;

/** The operators this knows: each tells whether the event's values (a value is a list of one) match. */
const OPERATORS: Record<string, (arg: unknown, values: unknown[], present: boolean) => boolean> = {
  prefix: (arg, values, present) => present && values.some((v) => typeof v === 'string' && v.startsWith(String(arg))),
  suffix: (arg, values, present) => present && values.some((v) => typeof v === 'string' && v.endsWith(String(arg))),
  exists: (arg, _values, present) => arg === present,
  'equals-ignore-case': (arg, values, present) =>
    present && values.some((v) => typeof v === 'string' && v.toLowerCase() === String(arg).toLowerCase()),
  'anything-but': (arg, values, present) => {
    const excluded = Array.isArray(arg) ? arg : [arg];
    return present && values.every((v) => !excluded.includes(v));
  },
};

const operatorOf = (rule: Record<string, unknown>) => {
  const names = Object.keys(rule);
  return names.length === 1 && Object.hasOwn(OPERATORS, names[0]!) ? OPERATORS[names[0]!] : undefined;
};

/** Throws when `pattern` uses anything {@link matchesPattern} does not know, before any event is matched. */
export function checkPattern(pattern: EventPattern, path = ''): void {
  for (const [key, rule] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (Array.isArray(rule)) {
      for (const entry of rule)
        if (entry !== null && typeof entry === 'object' && !operatorOf(entry as Record<string, unknown>))
          throw new Error(`unknown event pattern operator ${JSON.stringify(entry)} at ${at}`);
    } else if (rule !== null && typeof rule === 'object') checkPattern(rule as EventPattern, at);
    else throw new Error(`event pattern value for ${at} must be a list or an object`);
  }
}

function matchValue(rule: unknown, value: unknown, present: boolean): boolean {
  if (rule === null || typeof rule !== 'object')
    return present && (Array.isArray(value) ? value.some((v) => v === rule) : value === rule);
  const op = rule as Record<string, unknown>;
  const operator = operatorOf(op);
  if (!operator) throw new Error(`unknown event pattern operator ${JSON.stringify(op)}`);
  return operator(op[Object.keys(op)[0]!], Array.isArray(value) ? value : [value], present);
}

/** True when `event` matches `pattern` (every key; a list matches if any of its entries does). */
export function matchesPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  // Loops, not Object.entries: a stream feed matches every record it reads.
  for (const key in pattern) {
    const rule = pattern[key];
    const present = event !== null && typeof event === 'object' && key in event;
    const value = present ? event[key] : undefined;
    if (Array.isArray(rule)) {
      if (!rule.some((r) => matchValue(r, value, present))) return false;
    } else if (rule !== null && typeof rule === 'object') {
      if (!present || value === null || typeof value !== 'object') return false;
      if (!matchesPattern(rule as EventPattern, value as Record<string, unknown>)) return false;
    } else throw new Error(`event pattern value for ${key} must be a list or an object`);
  }
  return true;
}
