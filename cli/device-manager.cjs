#!/usr/bin/env node
/*
 * The `device-manager` bin. It runs the TypeScript sources through tsx's require hook (tsx is how
 * `npm start` runs the local service too): no build step to forget, and stack traces point at the
 * .ts files. tsx compiles each file once and caches it, so a start costs a few hundred milliseconds.
 */
require('tsx/cjs');
require('./main.ts').main();
