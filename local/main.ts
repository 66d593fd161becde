/**
 * `npm start`: the whole service on this machine. Starts the embedded DynamoDB engine (data kept in
 * ./.data unless IN_MEMORY=true), creates the table from the shared schema, and serves the real
 * Lambda handlers over HTTP on 127.0.0.1:$PORT. DYNAMODB_ENDPOINT points it at an existing DynamoDB.
 */
import './env-defaults';
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sweep, type SweepReport } from '../functions/app/sweep';
import { createServices, type Services, setServices, systemClock } from '../functions/composition/composition';
import { intVar, loadConfig } from '../functions/runtime/config';
import type { DashboardRuntimeConfig } from '../web/runtime-config';
import { authConfigFrom, type LocalAuthConfig } from './auth';
import { corsPolicyFrom } from './cors';
import { localBookmarkSecret } from './bookmark-secret';
import { ensureTable } from './create-table';
import { conflictOptionsFrom, startEngine, type Engine } from '@device-manager/local-engine';
import { type LocalEvents, startLocalEvents } from './events';
import { setImportFiles } from '../functions/composition/imports';
import { localImportFiles } from './import-files';
import { startImportThreads } from './import-threads';
import { setIotCaRegistry } from '../functions/composition/iot-ca-composition';
import { dryRunIotCa } from './iot-dry-run';

/** Route handlers that answer from the counters (and report `consistent_as_of`). */
const STATS_HANDLERS: ReadonlySet<string> = new Set([
  'device-stats',
  'group-stats',
  'metadata-stats',
  'expiration-stats',
  'certificate-stats',
  'connectivity-stats',
  'lamassu/get-stats',
  'lamassu/group-stats',
  'finding-counts',
]);
import { LOCAL_NODE_FLAGS } from './node-flags';
import { allowedHostsFrom } from './guards';
import { startLocalServer } from './server';
import { startLocalTasks } from './tasks';
import { DASHBOARD_DIST } from '../web/paths';
import { defaultDashboardScope } from '../functions/http/routes';

export interface LocalServiceOptions {
  env?: Record<string, string | undefined>;
  /** Print where everything listens. */
  quiet?: boolean;
}

export interface LocalService {
  url: string;
  engine?: Engine;
  tableName: string;
  /** Runs one sweep now (waiting for a running one first). */
  sweepNow(): Promise<SweepReport>;
  /** The local bus: its events file, and a wait for every change so far to be published and delivered. */
  events: Pick<LocalEvents, 'file' | 'drain'>;
  /** Resolves once no background task (a remediation job's walk) waits or runs. */
  tasksIdle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The sweeper of the deployed stack runs on a schedule; locally it runs in this process every
 * `intervalSeconds` (0 disables the timer), never two at once.
 */
function startSweepTimer(
  services: Services,
  { intervalSeconds, workers, jobWorkers }: { intervalSeconds: number; workers: number; jobWorkers: number },
  say: (line: string) => void,
) {
  let running: Promise<SweepReport> | undefined;
  const runNow = async (): Promise<SweepReport> => {
    while (running) await running.catch(() => undefined);
    running = sweep(
      {
        index: services.sweepIndex,
        policies: services.policies,
        service: services.devices,
        clock: systemClock,
        posture: services.postureRepository,
      },
      {
        deadline: Date.now() + Math.max(5, intervalSeconds) * 800,
        workers,
        jobWorkers,
        log: (message, detail) => say(`${message} ${JSON.stringify(detail)}`),
      },
    );
    try {
      const report = await running;
      if (report.due + report.reevaluated > 0) say(`sweep: ${JSON.stringify(report)}`);
      return report;
    } finally {
      running = undefined;
    }
  };
  const timer =
    intervalSeconds > 0
      ? setInterval(
          () => void runNow().catch((error: unknown) => console.error('sweep failed', error)),
          intervalSeconds * 1000,
        )
      : undefined;
  if (intervalSeconds > 0) say(`sweeper every ${intervalSeconds}s`);
  return {
    runNow,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

function dashboardConfigOf(
  env: Record<string, string | undefined>,
  auth: LocalAuthConfig | undefined,
): DashboardRuntimeConfig {
  if (!auth) return { auth: 'none' };
  if (!env.AUTH_OIDC_CLIENT_ID) return { auth: 'token' };
  return {
    auth: 'oidc',
    authority: auth.issuer,
    client_id: env.AUTH_OIDC_CLIENT_ID,
    scope: env.AUTH_OIDC_SCOPE ?? defaultDashboardScope(auth.scopePrefix),
  };
}

/**
 * The V8 heap limit this process runs with, and a hint when it was not started as `npm start`
 * starts it (node-flags.ts): the default limit lets the heap grow to several times what it holds.
 */
function heapLine(): string {
  const limit = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  // Flags count from the command line and from NODE_OPTIONS alike.
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const flagged = LOCAL_NODE_FLAGS.every((flag) => given.includes(flag));
  return (
    `V8 heap limit ${limit} MB` +
    (flagged
      ? ''
      : ` (npm start runs node with ${LOCAL_NODE_FLAGS.join(' ')}: less memory held; see docs/local-engine.md)`)
  );
}

/** Starts engine (unless DYNAMODB_ENDPOINT is set), table and API; returns a handle to stop them. */
export async function startLocalService({
  env = process.env,
  quiet = false,
}: LocalServiceOptions = {}): Promise<LocalService> {
  const say = (line: string) => quiet || console.log(line);
  // Device data, the bookmark key and the events stay the user's own: every file this process
  // creates (LevelDB's included, which takes no mode) is 0600, every folder 0700.
  process.umask(0o077);
  // The SDK needs a region, and credentials even for the embedded engine (which ignores them).
  env.AWS_REGION ??= process.env.AWS_REGION ?? 'us-east-1';
  const tableName = (env.TABLE_NAME ??= 'device-manager-local');

  let engine: Engine | undefined;
  if (!env.DYNAMODB_ENDPOINT) {
    const inMemory = env.IN_MEMORY === 'true';
    const dataDir = inMemory ? undefined : (env.DATA_DIR ?? '.data/dynamodb');
    engine = await startEngine({
      dataDir,
      port: intVar(env, 'DYNAMODB_PORT', 0, 0, 65535),
      indexLagMs: intVar(env, 'ENGINE_INDEX_LAG_MS', 0, 0, 600_000),
      latencyMs: intVar(env, 'ENGINE_LATENCY_MS', 0, 0, 10_000),
      ...conflictOptionsFrom(env),
    });
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    env.DYNAMODB_ENDPOINT = engine.endpoint;
    const lag = intVar(env, 'ENGINE_INDEX_LAG_MS', 0, 0, 600_000);
    say(
      `embedded DynamoDB engine on ${engine.endpoint} (${dataDir ? `data in ${dataDir}` : 'in memory'}` +
        `${lag ? `; global secondary indexes lag ${lag} ms behind writes` : ''}` +
        `${env.ENGINE_LATENCY_MS ? `; ${env.ENGINE_LATENCY_MS} ms added to every call` : ''}` +
        `${env.ENGINE_CONFLICTS === 'emulate' ? '; transaction conflicts rejected as DynamoDB does' : ''})`,
    );
  }
  env.BOOKMARK_SECRET = localBookmarkSecret(env);
  const config = loadConfig(env);
  const client = new DynamoDBClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  const created = await ensureTable(client, tableName);
  client.destroy();
  say(`table ${tableName} ${created}`);

  const services = createServices(config);
  setServices(services);
  const events = startLocalEvents({ env, services, engine, tableName, say });
  // CA registration: AWS IoT at IOT_ENDPOINT, else a dry run that logs the calls it would make.
  if (!env.IOT_ENDPOINT) setIotCaRegistry(dryRunIotCa(say));
  say(
    `events: ${engine ? 'published from the change feed' : 'not published (no embedded engine)'}, ` +
      `${events.file ? `appended to ${events.file}` : 'no events file'}`,
  );
  const importFiles = localImportFiles({
    dir:
      engine && env.IN_MEMORY !== 'true'
        ? path.join(path.dirname(env.DATA_DIR ?? '.data/dynamodb'), 'imports')
        : undefined,
  });
  setImportFiles(importFiles);
  const auth = authConfigFrom(env);
  // The dashboard signs in at the issuer (OIDC code + PKCE) when AUTH_OIDC_CLIENT_ID names a client,
  // asks for a pasted token when the API only checks JWTs, and does not sign in otherwise.
  const dashboard = { dir: DASHBOARD_DIST, config: dashboardConfigOf(env, auth) };
  const cors = corsPolicyFrom(env);
  const server = await startLocalServer({
    port: intVar(env, 'PORT', 3000, 0, 65535),
    host: '127.0.0.1',
    auth,
    allowedHosts: allowedHostsFrom(env),
    localRoutes: events.routes,
    rawHandler: importFiles.serveUpload,
    dashboard,
    cors,
    // Statistics are read from counters that follow the change feed: wait for it (at most 5 s).
    beforeRoute: (route) => (STATS_HANDLERS.has(route.handler) ? events.settleCounters() : undefined),
    // LOCAL_PRIORITIES=off serves requests as Lambda does, none before another (bench:hostile's deployed table).
    prioritize: env.LOCAL_PRIORITIES !== 'off',
    // 30 s, or longer when blind writes may retry longer (VERSION_RETRY_SECONDS): a handler is never
    // cut off by the local timeout before its own bound answers.
    functionTimeoutMs: Math.max(30, config.versionRetrySeconds + 15) * 1000,
  });
  say(
    `device-manager API listening on ${server.url}/v2 (OpenAPI: ${server.url}/v2/openapi.json), ` +
      `${auth ? `JWT auth: issuer ${auth.issuer}` : 'auth off (loopback only)'}`,
  );
  say(`dashboard on ${server.url}/`);
  importFiles.setBaseUrl(server.url);
  say(heapLine());
  const sweeper = startSweepTimer(
    services,
    {
      intervalSeconds: intVar(env, 'SWEEP_INTERVAL_SECONDS', 60, 0, 86400),
      // The deployed queues' maximum concurrency (settings sweepWorkers, jobWorkers).
      workers: intVar(env, 'SWEEP_WORKERS', 4, 1, 1000),
      jobWorkers: intVar(env, 'JOB_WORKERS', 2, 1, 1000),
    },
    say,
  );
  // Server-side import pieces may run on worker threads (a second core): see import-threads.ts.
  const threadCount = intVar(env, 'IMPORT_THREADS', 0, 0, 16);
  const importThreads =
    threadCount > 0 ? await startImportThreads({ count: threadCount, env, files: importFiles }) : undefined;
  if (importThreads) say(`server-side import pieces on ${threadCount} worker thread(s)`);
  // Remediation jobs run on this process's job worker; those a previous process left unfinished resume now.
  const tasks = startLocalTasks({ concurrency: intVar(env, 'JOB_WORKERS', 2, 1, 1000), say, importThreads });
  void services.jobs
    .resumeStalled(tasks.queue, 0)
    .then((n) => n > 0 && say(`${n} unfinished job(s) resumed`))
    .catch((error: unknown) => console.error('job resume failed', error));
  // A first sweep at once: newly indexed keys (INDEXED_METADATA_KEYS) are back-filled without waiting a period.
  void sweeper.runNow().catch((error: unknown) => console.error('sweep failed', error));

  return {
    url: server.url,
    engine,
    tableName,
    sweepNow: sweeper.runNow,
    events: { file: events.file, drain: events.drain },
    tasksIdle: tasks.idle,
    async stop() {
      await sweeper.stop();
      await tasks.stop();
      await importThreads?.stop();
      await server.close();
      setImportFiles(undefined);
      await events.stop();
      await engine?.stop();
      setServices(undefined);
      setIotCaRegistry(undefined);
    },
  };
}

if (require.main === module) {
  startLocalService()
    .then((service) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`${signal}: stopping`);
        service.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    })
    .catch((error: unknown) => {
      console.error('device-manager failed to start:', error);
      process.exit(1);
    });
}
