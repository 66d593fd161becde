/**
 * Each function bundles only what its route uses (functions/composition/*), and the X-Ray SDK
 * only as the side file that tracing loads: budgets in bytes and module lists, from esbuild metafiles
 * built with the stack's options (lib/constructs/service-function.ts).
 */
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { tracingBundleCommands } from '../../lib/constructs/service-function';
import { resetTracing, tracing, tracingEnabled } from '../../functions/runtime/tracing';

const ROOT = path.resolve(__dirname, '..', '..');
const MAX_BUNDLE_BYTES = 250 * 1024;
let work: string;

beforeAll(() => {
  // Inside the repository, so a bundle resolves `@aws-sdk/*` from node_modules as Lambda does from its runtime.
  mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  work = mkdtempSync(path.join(ROOT, '.bench', 'bundle-test-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function bundle(handler: string): { file: string; bytes: number; inputs: string[] } {
  const outfile = path.join(work, handler, 'index.js');
  const result = buildSync({
    entryPoints: [path.join(ROOT, 'functions', `${handler}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    external: ['@aws-sdk/*'],
    metafile: true,
    logLevel: 'error',
    absWorkingDir: ROOT,
  });
  const metafile: Metafile = result.metafile!;
  // What the bundle holds: the modules that left code in it (not those parsed and shaken out).
  const held = Object.values(metafile.outputs).find((output) => output.entryPoint)!.inputs;
  const inputs = Object.keys(held).filter((input) => held[input]!.bytesInOutput > 0);
  return { file: outfile, bytes: statSync(outfile).size, inputs };
}

const TRACER = /node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer)\//;
const LAMASSU = /functions\/lamassu\/(?!handlers\/)/;
const OPENAPI = /functions\/openapi\/|functions\/lamassu\/openapi/;
const GROUPS = /functions\/app\/group[s-]|dynamodb\/group-/;
const PURGE = /device-purge\.ts/;
/** zod's full build (the `zod` entry: about 95 KB, slow to evaluate) and its locales other than English. */
const FULL_ZOD = /node_modules\/zod\/(v4\/classic|v3)\/|node_modules\/zod\/v4\/locales\/(?!en\.js|index\.js)/;
const ZOD_MINI = /node_modules\/zod\/v4\/mini\//;
/** Schemas a device route does not build: the group and slot routes' and the OpenAPI-only resource schemas. */
const OTHER_SCHEMAS = /functions\/domain\/(group|slot|resource)-schemas\.ts/;

/** Every TypeScript file under functions/. */
function sources(dir = path.join(ROOT, 'functions')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [path.join(dir, entry.name)]
        : [],
  );
}

describe('function bundles', () => {
  it.each([
    ['handlers/http/get-device', [TRACER, LAMASSU, OPENAPI, GROUPS, PURGE, FULL_ZOD]],
    ['handlers/http/list-devices', [TRACER, LAMASSU, OPENAPI, GROUPS, PURGE, FULL_ZOD]],
    ['handlers/http/create-device', [TRACER, LAMASSU, OPENAPI, GROUPS, PURGE, FULL_ZOD, OTHER_SCHEMAS]],
    ['handlers/http/create-group', [TRACER, LAMASSU, OPENAPI, PURGE, FULL_ZOD]],
    ['lamassu/handlers/create-device', [TRACER, OPENAPI, GROUPS, PURGE, FULL_ZOD]],
    ['handlers/http/openapi', [TRACER, GROUPS, PURGE, FULL_ZOD]],
    ['handlers/events/certificate-status', [TRACER, LAMASSU, OPENAPI, GROUPS, PURGE, FULL_ZOD]],
    ['handlers/scheduled/sweep', [TRACER, LAMASSU, OPENAPI, GROUPS, PURGE, FULL_ZOD]],
    ['handlers/events/task-worker', [TRACER, LAMASSU, OPENAPI, GROUPS, PURGE, FULL_ZOD]],
  ])('%s stays within 250 KB and holds none of the modules its route does not use', (handler, absent) => {
    const { bytes, inputs } = bundle(handler);
    expect(bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    expect(inputs.filter((input) => absent.some((re) => re.test(input)))).toEqual([]);
  });

  it("no function imports zod's full build: schemas are built with zod/mini (functions/domain/zod-mini.ts)", () => {
    const files = sources();
    expect(files.length).toBeGreaterThan(100);
    const fullZod = files.filter((file) => /from '(zod|zod\/v4|zod\/v3)'/.test(readFileSync(file, 'utf8')));
    expect(fullZod.map((file) => path.relative(ROOT, file))).toEqual([]);
    expect(bundle('handlers/http/create-device').inputs.some((input) => ZOD_MINI.test(input))).toBe(true);
  });

  it('the checks can fail: the Lamassu delete route bundles the Lamassu edge and the purge', () => {
    const { inputs } = bundle('lamassu/handlers/delete-device');
    expect(inputs.some((input) => LAMASSU.test(input))).toBe(true);
    expect(inputs.some((input) => PURGE.test(input))).toBe(true);
    expect(inputs.some((input) => GROUPS.test(input))).toBe(false);
  });
});

/** Runs `script` in a fresh Node process with the environment a Lambda function of the stack gets (plus `env`). */
function inFreshNode(script: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH,
      TABLE_NAME: 't',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    encoding: 'utf8',
  });
}

describe('what a cold start evaluates', () => {
  const zodLoaded = (file: string) =>
    inFreshNode(
      `require(${JSON.stringify(file)});` +
        `process.stdout.write(String(Object.keys(globalThis).some((k)=>k.startsWith('__zod'))))`,
    );

  it('a route without a body loads no schemas (zod); a route with one does', () => {
    expect(zodLoaded(bundle('handlers/http/get-device').file)).toBe('false');
    expect(zodLoaded(bundle('handlers/http/create-device').file)).toBe('true');
  });

  it.each([
    // The job and import routes, the sweeper and the task worker bundle the import task handlers, which
    // load the device schemas on the first rows they import.
    'handlers/http/get-job',
    // A DMS read fills in the stored IoT settings' defaults (domain/dms-iot-settings.ts), not their schema.
    'handlers/http/get-dms',
  ])('%s loads no schemas (zod) at init', (handler) => {
    expect(zodLoaded(bundle(handler).file)).toBe('false');
  });

  it('the IoT sync loads the AWS IoT SDK on its first invocation, not at init (adapters/iot/sdk.ts)', () => {
    const file = bundle('handlers/events/iot-sync').file;
    const iotLoaded = `Object.keys(require.cache).some((k)=>k.includes('@aws-sdk/client-iot/'))`;
    const script =
      `const m=require(${JSON.stringify(file)});const atInit=${iotLoaded};` +
      `m.handler({Records:[]},{invokedFunctionArn:'arn:aws:lambda:us-east-1:123456789012:function:f'})` +
      `.then(()=>process.stdout.write(JSON.stringify([atInit,${iotLoaded}])))`;
    const out = inFreshNode(script, { IOT_SYNC_ENABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    expect(JSON.parse(out)).toEqual([false, true]);
  });
});

describe('SQS and S3 SDKs loaded on first use (adapters/sqs/sdk.ts, adapters/s3/import-files.ts)', () => {
  it.each([
    'handlers/http/get-job',
    'handlers/http/create-import',
    'handlers/scheduled/sweep',
    'handlers/events/task-worker',
    'handlers/stream/publish-outbox',
  ])('%s bundles them but loads neither at init', (handler) => {
    const { file, inputs } = bundle(handler);
    const loaded = (sdk: string) => `Object.keys(require.cache).some((k)=>k.includes('@aws-sdk/${sdk}/'))`;
    const script =
      `require(${JSON.stringify(file)});` +
      `process.stdout.write(JSON.stringify([${loaded('client-sqs')},${loaded('client-s3')}]))`;
    const out = inFreshNode(script);
    expect(inputs.some((input) => input.includes('functions/adapters/sqs/'))).toBe(true);
    expect(JSON.parse(out)).toEqual([false, false]);
  });

  it('the check can fail: the SDK itself, required, is in the cache', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "require('@aws-sdk/client-sqs');" +
          "process.stdout.write(String(Object.keys(require.cache).some((k)=>k.includes('@aws-sdk/client-sqs/'))))",
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(out).toBe('true');
  });
});

describe('tracing as a side file', () => {
  const loadsTracer = (file: string, env: Record<string, string>) =>
    inFreshNode(
      `require(${JSON.stringify(file)});` +
        `process.stdout.write(String(Object.keys(require.cache).some((k)=>k.endsWith('tracing-xray.js'))))`,
      env,
    );

  it('the stack hook builds it beside the bundle; the bundle loads it only where tracing records', () => {
    const { file } = bundle('handlers/http/get-device');
    for (const command of tracingBundleCommands(ROOT, path.dirname(file)))
      execSync(command, { cwd: ROOT, stdio: 'pipe' });
    expect(statSync(path.join(path.dirname(file), 'tracing-xray.js')).size).toBeGreaterThan(50 * 1024);
    const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
    expect(loadsTracer(file, { ...lambda, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe('true');
    // Off unless the stack's `tracing` setting switched it on.
    expect(loadsTracer(file, lambda)).toBe('false');
    expect(loadsTracer(file, { ...lambda, POWERTOOLS_TRACE_ENABLED: 'false' })).toBe('false');
    expect(loadsTracer(file, { POWERTOOLS_TRACE_ENABLED: 'true' })).toBe('false');
  });

  it("records only where switched on, and where the Tracer's own rule lets it", () => {
    const on = { POWERTOOLS_TRACE_ENABLED: 'TRUE' };
    expect(tracingEnabled({ ...on, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(
      false,
    );
    expect(tracingEnabled({ ...on, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingEnabled({ ...on, AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
    expect(tracingEnabled(on)).toBe(false);
  });

  it('resolves to the TypeScript source when run unbundled (tests, the local service)', () => {
    const saved = process.env.AWS_EXECUTION_ENV;
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.POWERTOOLS_TRACE_ENABLED = 'true';
    try {
      resetTracing();
      const hooks = tracing();
      expect(typeof hooks?.handlerMiddleware().before).toBe('function');
      const client = createDocumentClient({ region: 'us-east-1' });
      hooks?.captureAWSv3Client(client);
      expect(client.middlewareStack.identify().some((name) => name.startsWith('XRaySDKInstrumentation'))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
      else process.env.AWS_EXECUTION_ENV = saved;
      delete process.env.POWERTOOLS_TRACE_ENABLED;
      resetTracing();
    }
  });
});
