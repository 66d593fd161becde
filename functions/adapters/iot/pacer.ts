/**
 * Paces calls per AWS IoT API. AWS IoT throttles each control-plane API at its own rate (an account
 * quota per API), so the sync spaces the calls of each API evenly at a configured rate instead of
 * bounding how many syncs run at once: cheap calls are not held back by scarce ones.
 */
export interface Pacer {
  /** Resolves when `operation` may be called (at once when it is under its rate). */
  wait(operation: string): Promise<void>;
}

/** Calls per second by API name; `default` for the others. 0 or absent = not paced. */
export type ApiRates = Readonly<Record<string, number>>;

export interface PacerOptions {
  rates: ApiRates;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function pacer({
  rates,
  now = Date.now,
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
}: PacerOptions): Pacer {
  /** When each API may next be called (ms since the epoch): the slots are handed out in call order. */
  const nextSlot = new Map<string, number>();
  return {
    async wait(operation) {
      const rate = rates[operation] ?? rates.default ?? 0;
      if (!(rate > 0)) return;
      const t = now();
      const slot = Math.max(t, nextSlot.get(operation) ?? t);
      nextSlot.set(operation, slot + 1000 / rate);
      if (slot > t) await sleep(slot - t);
    },
  };
}
