/**
 * `npm run test:deployed`: the deploy simulation (docs/deployed-simulation.md). Not part of `npm test`:
 * it synthesizes three settings profiles with bundling, which takes minutes.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/deployed'],
  testMatch: ['**/*.deployed.ts'],
  globalSetup: '<rootDir>/test/deployed/global-setup.ts',
  testTimeout: 600000,
  // One profile at a time: each runs dozens of function processes.
  maxWorkers: 1,
};
