/**
 * The V8 heap settings the local service runs with: `npm start` (package.json) and every child
 * process started by test/support/child-service.ts (crash tests, `npm run bench:rss`) pass them to
 * node; `npm run bench:scale`, which runs the service in its own process, passes them too.
 *
 * Why: the service's live JavaScript heap is small and flat with the fleet (≈ 36 MB after a full GC
 * at 30,000 devices: code, the 10-minute idempotency tokens, module state), but on a machine with
 * plenty of memory V8 lets the old generation grow to 4× the live heap before a full collection
 * (its growing factor depends on the heap limit: 4.0 from a 2 GB limit up, 1.3–2.0 below) and keeps
 * 16 MB semi-spaces. With a 1 GB limit the factor is ≤ 1.6 and 4 MB semi-spaces hold the young
 * generation to 8 MB. Measured with `npm run bench:rss` (docs/local-engine.md, Memory): 30,000
 * devices 318 → 216 MB RSS; 100,000 devices 438 → 251 MB (registrations/s within this machine's noise,
 * perhaps up to 15% fewer: docs/local-engine.md).
 * 1 GB stays far above what the service holds (a request body is ≤ 16 MB, a statistics query reads
 * at most STATS_READ_BUDGET items).
 */
export const LOCAL_NODE_FLAGS = ['--max-old-space-size=1024', '--max-semi-space-size=4'] as const;
