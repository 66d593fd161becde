/**
 * The soak tier (`npm run test:soak`; CI runs it too): the big runs. Files named `*.soak.test.ts`
 * run only here; the files listed in SCALED also run in `npm test`, at the small sizes of
 * test/support/tier.ts, and here at full size.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

const SCALED = [
  'test/e2e/cli-export.test.ts',
  'test/e2e/cli-import.test.ts',
  'test/e2e/crash-recovery.test.ts',
  'test/e2e/fuzz.test.ts',
  'test/integration/engine/transactions.test.ts',
  'test/integration/events/outbox-publishing.test.ts',
];

module.exports = {
  ...base,
  testMatch: ['**/*.soak.test.ts', ...SCALED.map((file) => `**/${file}`)],
  testPathIgnorePatterns: ['/node_modules/'],
  setupFiles: [...base.setupFiles, '<rootDir>/test/setup-soak.ts'],
  // Full-size runs take minutes each on a loaded machine.
  testTimeout: 600_000,
  // One worker per core, as before `npm test` took 1.5 (the soak tier was not measured with more).
  maxWorkers: '100%',
};
