/**
 * Runs the slowest test files first, so that neither worker is left with a long file at the end of the run.
 * Jest does so from its own cache of the last run's durations; a fresh clone has no such cache and jest
 * falls back on file size, which puts slow CDK and e2e files late. Then the table below, seconds per file
 * measured on a warm run (2 cores), stands in; a file it does not list counts as 1 s. Jest's cache, when
 * there, wins, and a stale entry here only changes the order.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/** Seconds, files under test/ that took 2 s or more. */
const SECONDS = {
  // The CDK files run together (test/cdk/all-in-one.test.ts): about 80 s on one worker.
  'cdk/all-in-one.test.ts': 80,
  'e2e/cli-import.test.ts': 17.3,
  'e2e/cli-export.test.ts': 9.9,
  'e2e/contention.test.ts': 8.9,
  'unit/bundles.test.ts': 8.5,
  'integration/adapters/ports.contract.test.ts': 8.3,
  'integration/adapters/sweeper.test.ts': 8.2,
  'e2e/crash-recovery.test.ts': 8.0,
  'unit/domain/lifecycle.test.ts': 7.4,
  'integration/adapters/insights.test.ts': 7.2,
  'integration/adapters/sweep-fanout.test.ts': 7.2,
  'integration/events/outbox-publishing.test.ts': 6.9,
  'integration/events/certificate-status.test.ts': 6.7,
  'integration/adapters/posture-checks.test.ts': 6.1,
  'e2e/imports-api.test.ts': 5.8,
  'e2e/lamassu-api.test.ts': 5.8,
  'e2e/index-lag.test.ts': 5.7,
  'e2e/hostile-edges.test.ts': 5.5,
  'e2e/hostile-filters.test.ts': 5.5,
  'e2e/insights-api.test.ts': 5.5,
  'integration/adapters/device-registry.test.ts': 5.5,
  'e2e/fuzz.test.ts': 5.0,
  'integration/adapters/certificate-inventory.test.ts': 4.1,
  'integration/adapters/groups.test.ts': 4.0,
  'e2e/groups-api.test.ts': 3.7,
  'e2e/cli-jobs.test.ts': 3.4,
  'integration/adapters/jobs.test.ts': 3.4,
  'integration/adapters/device-purge.test.ts': 3.3,
  'integration/engine/transactions.test.ts': 3.3,
  'unit/lamassu/jsonpath-engine.test.ts': 3.3,
  'integration/adapters/imports.test.ts': 3.0,
  'integration/adapters/read-budgets.test.ts': 3.0,
  'integration/adapters/posture-fence.test.ts': 2.7,
  'e2e/lamassu-dashboard.test.ts': 2.6,
  'integration/adapters/metadata-ranks.test.ts': 2.6,
  'integration/adapters/slot-version-layout.test.ts': 2.6,
  'e2e/events.test.ts': 2.5,
  'e2e/slots-api.test.ts': 2.5,
  'integration/engine/conflicts.test.ts': 2.5,
  'integration/adapters/iot-findings.test.ts': 2.4,
  'e2e/jobs-api.test.ts': 2.2,
  'e2e/posture-api.test.ts': 2.2,
  'integration/engine/durable-stream.test.ts': 2.2,
  'e2e/iot-sync.test.ts': 2.1,
  'integration/adapters/job-findings.test.ts': 2.1,
  'integration/engine/lifecycle.test.ts': 2.0,
};

class SlowFirstSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const relative = path.relative(path.join(test.context.config.rootDir, 'test'), test.path).split(path.sep).join('/');
    return (SECONDS[relative] ?? 1) * 1000;
  }
}

module.exports = SlowFirstSequencer;
