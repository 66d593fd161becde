/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The soak tier (jest.soak.config.js, `npm run test:soak`) runs these, at full size.
  testPathIgnorePatterns: ['/node_modules/', '\\.soak\\.test\\.ts$'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // @middy/* 6.x and jose 6 ship ESM only: let swc turn them into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose)/)'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // One synthesis per CDK settings profile for the whole run, shared by the workers (test/cdk/helpers.ts).
  globalSetup: '<rootDir>/test/cdk/global-setup.ts',
  globalTeardown: '<rootDir>/test/cdk/global-teardown.ts',
  // Slowest files first even on a fresh clone, which has no jest cache of the last run's durations.
  testSequencer: '<rootDir>/test/sequencer.js',
  testTimeout: 30000,
  // Every core (jest's default leaves one free): the CLI, HTTP and browser suites wait mostly on a
  // local service or a child process.
  maxWorkers: '100%',
};
