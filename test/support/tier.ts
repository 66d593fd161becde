/**
 * Test tiers (docs/development.md, Test tiers): `npm test` runs a scaled file at its small size,
 * `npm run test:soak` (jest.soak.config.js) at its full size. The same assertions hold at both.
 */
export const SOAK = process.env.TEST_TIER === 'soak';

/** The size of a run: `small` in `npm test`, `full` in the soak tier. */
export function bySize<T>(small: T, full: T): T {
  return SOAK ? full : small;
}
