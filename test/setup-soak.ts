// The soak tier (jest.soak.config.js): test/support/tier.ts picks the full sizes.
process.env.TEST_TIER = 'soak';
