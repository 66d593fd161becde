/**
 * Lambda containers for the deploy simulation: each function's bundle from cdk.out runs in its own
 * Node process that can resolve only Node's built-ins and the AWS SDK v3 (NODE_PATH to a folder of
 * links to the SDK and its dependencies, the way the nodejs22.x runtime provides them), with the
 * template's environment for that function plus the variables the Lambda runtime sets.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SimFunction } from './template';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const NODE_MODULES = path.join(REPO_ROOT, 'node_modules');

/** The runtime's bootstrap: loads the handler (timed: the cold init) and serves invocations over IPC. */
const BOOTSTRAP = `'use strict';
const path = require('node:path');
const [file, name] = process.env._HANDLER.split('.');
const started = process.hrtime.bigint();
const cpu = process.cpuUsage();
let mod, initError;
try { mod = require(path.join(process.env.LAMBDA_TASK_ROOT, file + '.js')); } catch (e) { initError = e; }
const initMs = Number(process.hrtime.bigint() - started) / 1e6;
const used = process.cpuUsage(cpu);
const initCpuMs = (used.user + used.system) / 1e3;
const initFailure = initError ? String(initError.stack || initError) : undefined;
process.send({ type: 'ready', initMs, initCpuMs, error: initFailure });
process.on('message', async (msg) => {
  if (msg.type !== 'invoke') return;
  process.env._X_AMZN_TRACE_ID = msg.traceId;
  const deadline = Date.now() + msg.timeoutMs;
  const context = {
    ...msg.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    succeed() {},
    fail() {},
  };
  try {
    const result = await mod[name](msg.event, context);
    process.send({ type: 'result', id: msg.id, result: result === undefined ? null : result });
  } catch (e) {
    const error = { name: e && e.name, message: e && e.message, stack: e && e.stack };
    process.send({ type: 'error', id: msg.id, error });
  }
});
`;

/** Every package the installed `@aws-sdk/*` packages need, transitively (what the runtime ships). */
function sdkClosure(): string[] {
  const seen = new Set<string>();
  const queue = readdirSync(path.join(NODE_MODULES, '@aws-sdk')).map((n) => `@aws-sdk/${n}`);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    const manifest = path.join(NODE_MODULES, name, 'package.json');
    if (!existsSync(manifest)) continue; // an optional dependency that is not installed
    seen.add(name);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
  }
  return [...seen].sort();
}

/**
 * Prepares `dir` as the runtime's module folder (links to the SDK closure) and writes the bootstrap.
 * @returns the NODE_PATH value and the bootstrap file.
 */
export function prepareRuntime(dir: string): { nodePath: string; bootstrap: string; packages: string[] } {
  const modules = path.join(dir, 'runtime', 'node_modules');
  mkdirSync(modules, { recursive: true });
  const packages = sdkClosure();
  for (const name of packages) {
    const link = path.join(modules, name);
    if (existsSync(link)) continue;
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(NODE_MODULES, name), link, 'dir');
  }
  const bootstrap = path.join(dir, 'runtime', 'bootstrap.cjs');
  writeFileSync(bootstrap, BOOTSTRAP);
  return { nodePath: modules, bootstrap, packages };
}

export interface RuntimeSettings {
  nodePath: string;
  bootstrap: string;
  region: string;
  account: string;
  /** AWS_ENDPOINT_URL: where the SDK sends every call. */
  endpointUrl: string;
  /** The X-Ray daemon address (a UDP sink of the simulation). */
  xrayDaemon: string;
  /** The access key id the endpoint identifies this function by. */
  accessKeyId: (fn: SimFunction) => string;
  /**
   * Runs the runtime's Node under another program (bench:deployed counts its instructions under valgrind):
   * `execPath execArgv... node bootstrap`. Default: Node itself.
   */
  launcher?: { execPath: string; execArgv: string[] };
}

export interface InvokeResult {
  ok: boolean;
  result?: any;
  error?: { name?: string; message?: string; stack?: string };
}

/** One warm container of a function: started on first use, kept for later invocations. */
export class LambdaContainer {
  readonly initMs: Promise<number>;
  /** CPU time of the init (every thread, user and system), known once `initMs` resolves. */
  initCpuMs?: number;
  private child: ChildProcess;
  private pending = new Map<string, (r: InvokeResult) => void>();
  private output: string[] = [];
  private exited = false;

  constructor(
    readonly fn: SimFunction,
    settings: RuntimeSettings,
  ) {
    const env: Record<string, string> = {
      // The template's environment, as Lambda sets it.
      ...fn.environment,
      // What the Lambda runtime adds.
      AWS_REGION: settings.region,
      AWS_DEFAULT_REGION: settings.region,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${randomBytes(16).toString('hex')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_ACCESS_KEY_ID: settings.accessKeyId(fn),
      AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64'),
      AWS_SESSION_TOKEN: randomBytes(32).toString('base64'),
      AWS_XRAY_DAEMON_ADDRESS: settings.xrayDaemon,
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      LAMBDA_TASK_ROOT: fn.assetDir,
      LAMBDA_RUNTIME_DIR: path.dirname(settings.bootstrap),
      _HANDLER: fn.handler,
      NODE_PATH: settings.nodePath,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      // The simulation's only addition: the SDK sends every call to the local endpoint.
      AWS_ENDPOINT_URL: settings.endpointUrl,
      // Node 20 here (the runtime is Node 22): keep the SDK's Node version notice out of the logs.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    this.child = fork(settings.bootstrap, [], {
      cwd: fn.assetDir,
      env,
      ...(settings.launcher
        ? { execPath: settings.launcher.execPath, execArgv: [...settings.launcher.execArgv, process.execPath] }
        : { execArgv: [] }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.initMs = new Promise((resolve, reject) => {
      this.child.once('message', (msg: any) => {
        if (msg.type === 'ready' && !msg.error) {
          this.initCpuMs = msg.initCpuMs;
          resolve(msg.initMs);
        } else reject(new Error(`${fn.logicalId}: the bundle failed to load in the runtime: ${msg.error}`));
      });
      this.child.once('exit', (code) =>
        reject(new Error(`${fn.logicalId}: the runtime exited with ${code} before init\n${this.logs()}`)),
      );
    });
    this.child.on('message', (msg: any) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const done = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      done?.(msg.type === 'result' ? { ok: true, result: msg.result } : { ok: false, error: msg.error });
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const done of this.pending.values())
        done({ ok: false, error: { name: 'Runtime.ExitError', message: `exited with ${code}` } });
      this.pending.clear();
    });
  }

  /** Invokes the handler with an event (one at a time per container, as Lambda does). */
  async invoke(event: unknown, requestId = randomUUID()): Promise<InvokeResult> {
    await this.initMs;
    if (this.exited) return { ok: false, error: { name: 'Runtime.ExitError', message: 'the container has exited' } };
    const traceId =
      `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-` +
      `${randomBytes(12).toString('hex')};Parent=` +
      `${randomBytes(8).toString('hex')};Sampled=1`;
    const context = {
      functionName: this.fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.fn.arn,
      memoryLimitInMB: String(this.fn.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.fn.name}`,
      logStreamName: 'sim',
    };
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.child.send({
        type: 'invoke',
        id: requestId,
        event,
        context,
        traceId,
        timeoutMs: this.fn.timeoutSeconds * 1000,
      });
    });
  }

  /** The container's recent stdout and stderr (its logs). */
  logs(): string {
    return this.output.join('');
  }

  /**
   * Closes the runtime's channel and waits for its process to end by itself (nothing left to run once it
   * has no invocation to wait for), so that a launcher such as valgrind writes its summary to the logs.
   */
  release(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }

  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
