const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The soak tier (jest.soak.config.js, `npm run test:soak`) runs these, at full size.
  // The CDK files run together in test/cdk/all-in-one.test.ts (one module registry: their syntheses are
  // shared); CDK_TEST_FILES=each runs them one by one instead (to run one file alone).
  testPathIgnorePatterns: [
    '/node_modules/',
    '\\.soak\\.test\\.ts$',
    process.env.CDK_TEST_FILES === 'each'
      ? '/test/cdk/all-in-one\\.test\\.ts$'
      : '/test/cdk/(?!all-in-one\\.).+\\.test\\.ts$',
  ],
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
  // One worker and a half per core (3 on 2 cores; jest's default leaves one core free): the CLI, HTTP and
  // browser suites wait mostly on a local service or a child process, and one worker per core kept the
  // cores 55-80% busy. Fresh clone, `npm test`, 2 shared cores: 268 s and 372 s with 2 workers, 206 s with
  // 3, 214 s with 4. A count, not '150%': jest reads a percentage above 100 as that many workers.
  maxWorkers: Math.max(1, Math.floor(availableParallelism() * 1.5)),
};
