/**
 * The deploy simulation's Lambda containers (docs/deployed-simulation.md) as bench:deployed counts them: the
 * same bootstrap run under a launcher program (valgrind there), and a release that lets the runtime process
 * end by itself once its channel closes (so the launcher can write its summary).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LambdaContainer, prepareRuntime, type RuntimeSettings } from '../deployed/support/lambda-runtime';
import type { SimFunction } from '../deployed/support/template';

let dir: string;
let settings: RuntimeSettings;
let fn: SimFunction;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lambda-runtime-'));
  const assetDir = path.join(dir, 'asset');
  mkdirSync(assetDir);
  writeFileSync(
    path.join(assetDir, 'index.js'),
    'exports.handler = async (event) => ({ event, table: process.env.TABLE_NAME, ' +
      'launched: process.env.LAUNCHED ?? null });\n',
  );
  fn = {
    logicalId: 'Probe',
    name: 'probe',
    arn: 'arn:aws:lambda:eu-west-1:123456789012:function:probe',
    assetDir,
    handler: 'index.handler',
    timeoutSeconds: 10,
    memoryMb: 128,
    environment: { TABLE_NAME: 'probe-table' },
    roleLogicalId: 'ProbeRole',
    roleArn: 'arn:aws:iam::123456789012:role/probe',
    statements: [],
    tracing: false,
  };
  const { nodePath, bootstrap } = prepareRuntime(dir);
  settings = {
    nodePath,
    bootstrap,
    region: 'eu-west-1',
    account: '123456789012',
    endpointUrl: 'http://127.0.0.1:9',
    xrayDaemon: '127.0.0.1:9',
    accessKeyId: () => 'ASIAPROBE00000000000',
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs the bootstrap with the template environment, directly by default', async () => {
  const c = new LambdaContainer(fn, settings);
  const answer = await c.invoke({ n: 1 });
  await c.stop();
  expect(answer).toEqual({ ok: true, result: { event: { n: 1 }, table: 'probe-table', launched: null } });
});

it('runs it under a launcher, and a release lets the process end by itself', async () => {
  // `env LAUNCHED=yes node bootstrap.cjs`: the launcher's arguments come before Node and its bootstrap.
  const c = new LambdaContainer(fn, {
    ...settings,
    launcher: { execPath: '/usr/bin/env', execArgv: ['LAUNCHED=yes'] },
  });
  expect(await c.invoke({ n: 2 })).toEqual({
    ok: true,
    result: { event: { n: 2 }, table: 'probe-table', launched: 'yes' },
  });
  await c.release();
  expect(await c.invoke({ n: 3 })).toEqual({
    ok: false,
    error: { name: 'Runtime.ExitError', message: 'the container has exited' },
  });
});
