/**
 * `npm run bench:posture-jobs` (also run by bench:posture): the remediation-job part of the posture
 * bench (docs/benchmarks.md). A job over BENCH_JOB_FLEET devices (default 10,000) selected by an
 * indexed filter: devices per second and items read per device (target ≤ 3: the list page's entry and
 * device, the action's own read), for a tag job over the whole selection; then, on the BENCH_JOB_REVOKE
 * devices (default 1,000) bound with a certificate valid longer than the posture policy allows, a dry
 * run and a revoke job selecting the finding (`{"finding": "validity-too-long"}`: the check's own index,
 * not the fleet). Every DynamoDB read of the walk is counted at the client (GetItem, BatchGetItem, Query
 * items), job, policy and posture reads included (the policies once per task run, composition/jobs.ts).
 * The rate is the maximum (1,000/s): the walk is the bound.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEngine } from '@device-manager/local-engine';
import { bookmarkCodec } from '../functions/adapters/dynamodb/bookmark';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { deviceRepository } from '../functions/adapters/dynamodb/device-repository';
import { deviceTable } from '../functions/adapters/dynamodb/device-table';
import { postureRepository } from '../functions/adapters/dynamodb/posture-repository';
import { sweepIndex } from '../functions/adapters/dynamodb/sweep-index';
import { jobStore } from '../functions/adapters/dynamodb/job-store';
import { policyCaches } from '../functions/composition/jobs';
import { policyRepository } from '../functions/adapters/dynamodb/policy-repository';
import { deviceActions } from '../functions/app/device-actions';
import { deviceChanges } from '../functions/app/device-changes';
import { deviceService } from '../functions/app/devices';
import { JOB_TASK, jobService } from '../functions/app/jobs';
import type { Task } from '../functions/app/ports';
import { postureService } from '../functions/app/posture';
import { sweep } from '../functions/app/sweep';
import { parseCertificate } from '../functions/domain/certificate';
import { MAX_JOB_RATE, type JobAction, type NewJobInput } from '../functions/domain/jobs';
import { DEFAULT_POSTURE_POLICY } from '../functions/domain/posture';
import { certificate } from '../test/support/certificates';
import { ensureTable } from '../local/create-table';
import { fmt, inParallel, printTable } from './support';

// The embedded engine ignores credentials, but the SDK wants some.
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

const FLEET = Number(process.env.BENCH_JOB_FLEET ?? 10_000);
const REVOKE = Math.min(FLEET, Number(process.env.BENCH_JOB_REVOKE ?? 1000));

/** Items each read call returned or scanned, counted at the document client. */
function countReads(client: ReturnType<typeof createDocumentClient>) {
  const counter = { items: 0, calls: {} as Record<string, number> };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const out = result.output as Record<string, any>;
      switch (context.commandName) {
        case 'GetCommand':
        case 'GetItemCommand':
          counter.items += out.Item ? 1 : 0;
          break;
        case 'BatchGetCommand':
        case 'BatchGetItemCommand':
          for (const items of Object.values(out.Responses ?? {})) counter.items += (items as unknown[]).length;
          break;
        case 'QueryCommand':
          counter.items += out.ScannedCount ?? out.Items?.length ?? 0;
          break;
      }
      const name = String(context.commandName);
      counter.calls[name] = (counter.calls[name] ?? 0) + 1;
      return result;
    },
    { step: 'initialize', name: 'benchReadCounter' },
  );
  return counter;
}

async function main() {
  const engine = await startEngine();
  const tableName = `jobs-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint: engine.endpoint, region: 'us-east-1' });
  await ensureTable(admin, tableName);
  admin.destroy();
  const client = createDocumentClient({ endpoint: engine.endpoint, region: 'us-east-1' });
  const reads = countReads(client);
  const bookmarks = bookmarkCodec('bench');
  const clock = { now: () => new Date() };
  const options = { client, tableName, listShards: 4, statsShards: 4, dueShards: 4, bookmarks };
  const repository = deviceRepository(options);
  const policies = policyRepository({ client, tableName, bookmarks });
  const posture = postureRepository(deviceTable(options));
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID, posture });
  // Certificates valid longer than 30 days are a finding; the first assessment of the empty fleet makes
  // the findings ready, and each bind then judges its device.
  await postureService({ posture }).putPolicy({ ...DEFAULT_POSTURE_POLICY, max_validity_days: 30 });
  const index = sweepIndex({ repository, client, tableName });
  await sweep({ index, policies, service: devices, clock, posture }, { deadline: Date.now() + 60_000 });
  // One certificate (and key) per device: only `validity-too-long` is open, no shared certificate or key.
  const long = async () =>
    parseCertificate(
      (await certificate({ notBefore: new Date().toISOString(), notAfter: new Date(Date.now() + 365 * 86_400_000) }))
        .pem,
    );

  console.log(`seeding ${FLEET} devices (${REVOKE} with an identity)…`);
  await inParallel(
    Array.from({ length: FLEET }, (_, i) => i),
    16,
    async (i) => {
      const id = `bench-${String(i).padStart(6, '0')}`;
      await devices.register({ id, dms_id: `dms-${i % 10}`, tags: i < REVOKE ? ['fleet', 'bound'] : ['fleet'] });
      if (i < REVOKE) await devices.bind(id, 'identity', { type: 'x509', certificate: await long() });
    },
  );

  // The composition's policy caches (composition/jobs.ts): each policy read once per task run.
  const cached = policyCaches(policies, posture);
  const changes = deviceChanges({
    devices: repository,
    policies: cached.policies,
    clock,
    newId: randomUUID,
    posture: cached.posture,
  });
  const sent: Task[] = [];
  const queue = { send: async (tasks: readonly Task[]) => void sent.push(...tasks) };
  const jobs = jobService({
    jobs: jobStore({ client, tableName, bookmarks }),
    devices: repository,
    findings: posture,
    changes,
    actions: deviceActions(changes, randomUUID),
    queue: () => queue,
    clock,
    newId: randomUUID,
    forgetPolicies: cached.forget,
  });

  const run = async (selection: Pick<NewJobInput, 'filter' | 'finding' | 'dry_run'>, action: JobAction) => {
    const before = reads.items;
    const callsBefore = { ...reads.calls };
    const started = performance.now();
    const { id } = await jobs.create({ ...selection, action, rate_per_second: MAX_JOB_RATE });
    while (sent.length > 0)
      await jobs.handlers()[JOB_TASK]!(sent.shift()!, {
        deadline: Date.now() + 600_000,
        queue,
        log: () => undefined,
      });
    const seconds = (performance.now() - started) / 1000;
    // Counted before the bench reads the finished job to print it: that read is the bench's, not the job's.
    const read = reads.items - before;
    const job = await jobs.get(id);
    if (process.env.BENCH_DEBUG)
      console.log(Object.entries(reads.calls).map(([name, n]) => `${name} ${n - (callsBefore[name] ?? 0)}`));
    return { job, seconds, read };
  };

  const rows: (string | number)[][] = [];
  const revoke: JobAction = { type: 'revoke-identity', reason: 'KeyCompromise' };
  const plan: [string, Pick<NewJobInput, 'filter' | 'finding' | 'dry_run'>, JobAction][] = [
    ['add-tags (filter tags[ct]fleet)', { filter: ['tags[ct]fleet'] }, { type: 'add-tags', tags: ['quarantine'] }],
    ['dry run (finding validity-too-long)', { finding: 'validity-too-long', dry_run: true }, revoke],
    ['revoke-identity (finding validity-too-long)', { finding: 'validity-too-long' }, revoke],
  ];
  for (const [label, selection, action] of plan) {
    console.log(`job ${label}…`);
    const { job, seconds, read } = await run(selection, action);
    rows.push([
      label,
      job.counts.matched,
      job.counts.done,
      job.counts.skipped + job.counts.failed,
      fmt(seconds),
      fmt(job.counts.matched / seconds),
      // Three decimals: the job's own reads (the job, the policies: a few per run) are thousandths.
      (read / job.counts.matched).toFixed(3),
    ]);
  }
  printTable(
    `Remediation jobs on the embedded engine (rate ${MAX_JOB_RATE}/s, 4 devices of a page at once)`,
    ['action', 'matched', 'done', 'other', 'seconds', 'devices/s', 'items read / device (≤ 3)'],
    rows,
  );
  client.destroy();
  await engine.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
