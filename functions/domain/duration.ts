/** Durations of renewal policies: `90d`, `36h`, `30m`, or combinations such as `1d12h`. */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds of a duration, or undefined when it is not one (or is zero). */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text.length === 0) return undefined;
  const [, d, h, m, s] = match;
  const ms =
    Number(d ?? 0) * UNIT_MS.d + Number(h ?? 0) * UNIT_MS.h + Number(m ?? 0) * UNIT_MS.m + Number(s ?? 0) * UNIT_MS.s;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}
