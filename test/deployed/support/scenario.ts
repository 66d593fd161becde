/**
 * The flows the deploy simulation drives through one synthesized profile: every route of the
 * template's HTTP API, the stream publisher, the sweeper's schedule, the certificate intake's rule,
 * and (when the profile has them) the IoT sync and the CA caller from their queues. Any AWS call a
 * function's role does not allow fails, naming the function, the action and the resource.
 */
import { caCertificate } from '../../support/ca-certificates';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { certificate } from '../../support/certificates';
import type { Manifest } from '../global-setup';
import { prepareRuntime } from './lambda-runtime';
import type { ProfileName } from './profiles';
import type { SynthResult } from './synth';
import { loadStack, type SimStack } from './template';
import { type ApiResponse, World } from './world';

const MANIFEST_ENV = 'DEPLOYED_SIM_MANIFEST';
const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY);

export function readManifest(): Manifest {
  const file = process.env[MANIFEST_ENV];
  if (!file)
    throw new Error(
      `${MANIFEST_ENV} is not set: run through \`npm run test:deployed\` (jest -c jest.deployed.config.js)`,
    );
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/** Starts a world for a synthesized profile (the bench uses it too). */
export async function startWorld(result: SynthResult): Promise<World> {
  const runtime = prepareRuntime(path.dirname(result.outdir));
  const stack: SimStack = loadStack(result.outdir, result.stackName!, '123456789012', 'eu-west-1');
  return World.start(stack, runtime);
}

export interface CaFake {
  server: Server;
  requests: { method: string; url: string; authorization?: string; body: string }[];
}

export async function startCaFake(port: number): Promise<CaFake> {
  const requests: CaFake['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ serial_number: (req.url ?? '').split('/').at(-2), status: 'REVOKED' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, requests };
}

/** A request and the status it must get. */
interface Step {
  method: string;
  path: string;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Expected status, or statuses separated by `|`; default: any 2xx. */
  status?: number | string;
  /** Only where the template has the route (a route some settings or versions do not have). */
  ifRouted?: boolean;
}

const V1 = '/api/devmanager/v1';
/** The registration code the IoT fake hands out. */
const SIM_REGISTRATION_CODE = 'sim-registration-code';

/** Every route at least once, in an order where each finds what it needs. */
async function routeSteps(indexed: boolean): Promise<Step[]> {
  const id1 = await certificate({ notAfter: inDays(365), subject: 'CN=sim-1' });
  const tls = await certificate({ notAfter: inDays(400) });
  const v1Cert = await certificate({ notAfter: inDays(300), subject: 'CN=lam-1' });
  const id2 = await certificate({ notAfter: inDays(200), subject: 'CN=sim-2' });
  const ca = await caCertificate('CN=Sim CA');
  return [
    { method: 'GET', path: '/v2/openapi.json' },
    // CA registration: the code, then a CA proven by a certificate it signed with that code.
    { method: 'GET', path: '/v2/iot/registration-code' },
    {
      method: 'POST',
      path: '/v2/iot/ca-certificates',
      body: { certificate_pem: ca.pem, verification_certificate_pem: await ca.sign(`CN=${SIM_REGISTRATION_CODE}`) },
      status: 201,
    },
    {
      method: 'POST',
      path: '/v2/devices',
      body: { id: 'sim-1', dms_id: 'dms-sim', metadata: { model: 'x1', site: { region: 'eu' } } },
      status: 201,
    },
    { method: 'POST', path: '/v2/devices', body: { id: 'sim-2', dms_id: 'dms-sim', tags: ['eu'] }, status: 201 },
    { method: 'GET', path: '/v2/devices', query: { page_size: '10' } },
    { method: 'GET', path: '/v2/devices/sim-1' },
    {
      method: 'PATCH',
      path: '/v2/devices/sim-1',
      body: [{ op: 'add', path: '/tags/-', value: 'sim' }],
      headers: { 'content-type': 'application/json-patch+json' },
    },
    { method: 'PUT', path: '/v2/devices/sim-1/idslot', body: { certificate: id1.pem } },
    { method: 'PUT', path: '/v2/devices/sim-1/slots/tls-server', body: { certificate: tls.pem } },
    { method: 'GET', path: '/v2/devices/sim-1/slots/identity/versions/0' },
    { method: 'POST', path: '/v2/devices/sim-1/slots/tls-server/revoke', body: { reason: 'Superseded' } },
    { method: 'GET', path: '/v2/devices/sim-1/events' },
    { method: 'GET', path: '/v2/stats/devices' },
    { method: 'GET', path: '/v2/stats/expirations', query: { horizon_days: '400' } },
    // An indexed key answers once the sweeper has back-filled it (409 INDEX_NOT_READY before); any other key is a 400.
    { method: 'GET', path: '/v2/stats/metadata/model', status: indexed ? '200|409' : '400' },
    // The certificate inventory and its drill-down answer once the sweeper back-filled it (409 INDEX_NOT_READY before).
    { method: 'GET', path: '/v2/stats/certificates', query: { by: 'key' }, status: '200|409' },
    { method: 'GET', path: '/v2/stats/connectivity' },
    { method: 'GET', path: '/v2/devices', query: { filter: 'identity.key[eq]EC-P256' }, status: '200|409' },
    { method: 'GET', path: '/v2/dms' },
    { method: 'GET', path: '/v2/dms/dms-sim' },
    {
      method: 'PUT',
      path: '/v2/dms/dms-sim',
      body: { name: 'Simulated', settings: { preventive_delta: '60d', critical_delta: '14d' } },
    },
    // Fleet posture: findings answer 409 INDEX_NOT_READY until the sweeper's first posture walk is done.
    { method: 'GET', path: '/v2/posture/policy' },
    { method: 'PUT', path: '/v2/posture/policy', body: { max_validity_days: 3650 } },
    { method: 'GET', path: '/v2/findings', status: '200|409' },
    { method: 'GET', path: '/v2/findings/weak-key', status: '200|409' },
    {
      method: 'POST',
      path: '/v2/device-groups',
      body: { id: 'grp-sim', name: 'Sim fleet', criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-sim' }] },
      status: 201,
    },
    { method: 'GET', path: '/v2/device-groups' },
    { method: 'GET', path: '/v2/device-groups/grp-sim' },
    {
      method: 'PUT',
      path: '/v2/device-groups/grp-sim',
      body: { name: 'Sim fleet 2', criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-sim' }] },
    },
    { method: 'GET', path: '/v2/device-groups/grp-sim/devices' },
    { method: 'GET', path: '/v2/device-groups/grp-sim/stats' },
    { method: 'PUT', path: '/v2/devices/sim-2/idslot', body: { certificate: id2.pem } },
    { method: 'POST', path: '/v2/devices/sim-2/idslot/revoke', body: { reason: 'KeyCompromise' } },
    { method: 'DELETE', path: '/v2/device-groups/grp-sim' },
    // Remediation jobs (remediationJob below runs one to the end on the worker).
    {
      method: 'POST',
      path: '/v2/jobs',
      body: { filter: ['dms_owner[eq]dms-sim'], action: { type: 'add-tags', tags: ['sim-job'] }, dry_run: true },
      status: 202,
    },
    // A finding selection: the route reads whether the findings are assessed (409 until then).
    {
      method: 'POST',
      path: '/v2/jobs',
      body: { finding: 'weak-key', action: { type: 'decommission' }, dry_run: true },
      status: '202|409',
    },
    { method: 'GET', path: '/v2/jobs' },
    { method: 'GET', path: '/v2/jobs/job-unknown', status: 404 },
    { method: 'GET', path: '/v2/jobs/job-unknown/devices', status: 404 },
    { method: 'POST', path: '/v2/jobs/job-unknown/cancel', status: 404 },
    // The Lamassu-compatible edge.
    { method: 'GET', path: '/api/devmanager/health', ifRouted: true },
    {
      method: 'POST',
      path: `${V1}/devices`,
      body: {
        id: 'lam-1',
        dms_id: 'dms-lam',
        alias: 'camera',
        tags: [],
        metadata: { model: 'l1' },
        icon: '',
        icon_color: '',
      },
    },
    { method: 'GET', path: `${V1}/devices` },
    { method: 'GET', path: `${V1}/devices/lam-1` },
    { method: 'GET', path: `${V1}/devices/dms/dms-lam` },
    { method: 'PUT', path: `${V1}/devices/lam-1/metadata`, body: { metadata: { model: 'l2' } } },
    {
      method: 'PATCH',
      path: `${V1}/devices/lam-1/metadata`,
      body: { patches: [{ op: 'add', path: '/site', value: 'b1' }] },
    },
    {
      method: 'PUT',
      path: `${V1}/devices/lam-1/idslot`,
      body: {
        status: 'ACTIVE',
        active_version: 0,
        type: 'x509',
        versions: { '0': v1Cert.serial },
        expiration_date: inDays(300).toISOString(),
      },
    },
    { method: 'GET', path: `${V1}/stats` },
    {
      method: 'POST',
      path: `${V1}/device-groups`,
      body: { id: 'lgrp', name: 'Lamassu group', criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-lam' }] },
    },
    { method: 'GET', path: `${V1}/device-groups` },
    { method: 'GET', path: `${V1}/device-groups/lgrp` },
    {
      method: 'PUT',
      path: `${V1}/device-groups/lgrp`,
      body: { name: 'Lamassu group 2', criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-lam' }] },
    },
    { method: 'GET', path: `${V1}/device-groups/lgrp/devices` },
    { method: 'GET', path: `${V1}/device-groups/lgrp/stats` },
    { method: 'DELETE', path: `${V1}/device-groups/lgrp` },
    { method: 'DELETE', path: `${V1}/devices/lam-1/decommission` },
    { method: 'DELETE', path: `${V1}/devices/lam-1` },
    { method: 'DELETE', path: '/v2/devices/sim-2' },
  ];
}

export interface RouteOutcome {
  routeKey: string;
  function: string;
  status: number;
  expected: string;
  calls: number;
  rounds: number;
  body: unknown;
}

const outcomeOf = (r: ApiResponse, status?: number | string): RouteOutcome => ({
  routeKey: r.route.routeKey,
  function: r.route.function.logicalId,
  status: r.status,
  expected: status ? String(status) : '2xx',
  calls: r.invocation.calls,
  rounds: r.invocation.rounds,
  body: r.body,
});

/** Runs every route step; returns what each request got. */
export async function driveRoutes(world: World): Promise<RouteOutcome[]> {
  const outcomes: RouteOutcome[] = [];
  for (const step of await routeSteps(isIndexed(world, 'model'))) {
    // Coverage stays strict: a route of the template that no step reaches fails the flow test.
    if (step.ifRouted && !world.hasRoute(step.method, step.path)) continue;
    const r: ApiResponse = await world.request(step.method, step.path, {
      body: step.body,
      query: step.query,
      headers: step.headers,
    });
    outcomes.push(outcomeOf(r, step.status));
  }
  if (world.hasRoute('POST', '/v2/imports')) outcomes.push(...(await importFlow(world)));
  return outcomes;
}

/** The devices the server-side import flow creates (NDJSON, one row invalid). */
export const IMPORT_ROWS = ['imp-1', 'imp-2', 'imp-3'];
const IMPORT_FILE = [
  ...IMPORT_ROWS.map((id) => JSON.stringify({ id, dms_id: 'dms-imp', tags: ['imported'] })),
  JSON.stringify({ dms_id: 'dms-imp' }),
].join('\n');

/**
 * Server-side import (docs/api.md): a file PUT to the presigned URL the route signed, started, imported
 * by the job worker from the jobs queue; and a small file as the body of the create (stored by the route).
 */
async function importFlow(w: World): Promise<RouteOutcome[]> {
  const outcomes: RouteOutcome[] = [];
  const created = await w.request('POST', '/v2/imports', { body: { format: 'ndjson' } });
  outcomes.push(outcomeOf(created, 201));
  const { import: record, upload } = created.body as {
    import: { id: string };
    upload: { url: string; method: string };
  };
  // Not uploaded yet: 409.
  outcomes.push(outcomeOf(await w.request('POST', `/v2/imports/${record.id}/start`), 409));
  const put = await fetch(upload.url, { method: upload.method, body: IMPORT_FILE });
  if (put.status !== 200) throw new Error(`PUT to the presigned URL answered ${put.status}: ${await put.text()}`);
  outcomes.push(outcomeOf(await w.request('POST', `/v2/imports/${record.id}/start`), 202));
  await w.settle();
  outcomes.push(outcomeOf(await w.request('GET', `/v2/imports/${record.id}`)));
  // A small file as the request body: the route stores it and starts the import itself.
  const inline = await w.request('POST', '/v2/imports', {
    body: 'id,dms_id\nimp-4,dms-imp\n',
    headers: { 'content-type': 'text/csv' },
  });
  outcomes.push(outcomeOf(inline, 202));
  await w.settle();
  const inlineId = (inline.body as { id?: string; import?: { id: string } }).import?.id ?? inline.body.id;
  outcomes.push(outcomeOf(await w.request('GET', `/v2/imports/${inlineId}`)));
  return outcomes;
}

/** Usable outside jest (the bench): a request that must get what a flow needs. */
function must(r: ApiResponse, ok: (r: ApiResponse) => boolean): void {
  if (!ok(r)) throw new Error(`${r.route.routeKey} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
}

export const meetsExpectation = (o: RouteOutcome) =>
  o.expected === '2xx' ? o.status >= 200 && o.status < 300 : o.expected.split('|').includes(String(o.status));

/** True when the profile's functions index a metadata key (INDEXED_METADATA_KEYS from the template). */
export function isIndexed(world: World, key: string): boolean {
  return [...world.stack.functions.values()].some((f) =>
    (f.environment.INDEXED_METADATA_KEYS ?? '').split(',').includes(key),
  );
}

/** The denials as one readable line each: function, action, resource. */
export function describeDenials(world: World): string[] {
  return world.endpoint.denials.map((d) => `${d.function} was denied ${d.action} on ${d.resource}`);
}

export function describeFailures(world: World): string[] {
  return world.failures.map(
    (f) => `${f.function} (${f.trigger}): ${f.error}\n${f.logs.split('\n').slice(-12).join('\n')}`,
  );
}

/** The IoT certificate id of a PEM: its SHA-256 fingerprint, lower-case hex. */
export function iotCertificateId(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** A device bound to a certificate the CA then revokes: the CA's `certificate.status.update` on the bus. */
export async function certificateStatusFlow(w: World): Promise<{ pem: string }> {
  const { pem, serial } = await certificate({ notAfter: inDays(200), subject: 'CN=sim-ca-1' });
  must(
    await w.request('POST', '/v2/devices', { body: { id: 'sim-ca-1', dms_id: 'dms-sim' } }),
    (r) => r.status === 201,
  );
  // Not registered in AWS IoT (the fake knows no certificate): the sync registers it (without a CA, the
  // default) and attaches it to the thing.
  must(await w.request('PUT', '/v2/devices/sim-ca-1/idslot', { body: { certificate: pem } }), (r) => r.status === 200);
  await w.settle();
  const bus = w.stack.busNames[0]!;
  const rule = w.stack.rules.find((r) =>
    (r.pattern?.['detail-type'] as string[] | undefined)?.includes('certificate.status.update'),
  );
  const source = (rule?.pattern?.source as string[])[0]!;
  const time = new Date().toISOString();
  w.putEvent(bus, {
    version: '0',
    id: 'ca-event-1',
    'detail-type': 'certificate.status.update',
    source,
    account: w.stack.account,
    time,
    region: w.stack.region,
    resources: [],
    detail: {
      specversion: '1.0',
      id: 'ca-1',
      source,
      type: 'certificate.status.update',
      subject: `certificate/${serial}`,
      time,
      datacontenttype: 'application/json',
      data: { updated: { serial_number: serial, status: 'REVOKED', revocation_reason: 'KeyCompromise' } },
    },
  });
  return { pem };
}

/** A device of a DMS whose renewal policy then moves its renewal boundary into the past. */
export async function policyChange(w: World): Promise<void> {
  must(
    await w.request('POST', '/v2/devices', { body: { id: 'sim-sweep', dms_id: 'dms-sweep' } }),
    (r) => r.status === 201,
  );
  must(
    await w.request('PUT', '/v2/devices/sim-sweep/idslot', {
      body: { certificate: (await certificate({ notAfter: inDays(80) })).pem },
    }),
    (r) => r.body?.status === 'ACTIVE',
  );
  must(
    await w.request('PUT', '/v2/dms/dms-sweep', {
      body: { settings: { preventive_delta: '90d', critical_delta: '30d' } },
    }),
    (r) => r.status === 200,
  );
}

/** Whether the profile runs the AWS IoT sync. */
const syncsIot = (w: World): boolean =>
  [...w.stack.functions.values()].some((f) => f.environment.IOT_SYNC_ENABLED === 'true');

/** What the import flow must have done: the rows in, through the presigned upload and the job worker. */
async function expectImported(w: World, outcomes: RouteOutcome[]): Promise<void> {
  const views = outcomes.filter((o) => o.routeKey === 'GET /v2/imports/{id}').map((o) => o.body as any);
  expect(views[0]).toMatchObject({ status: 'DONE', pieces_done: 1, counts: { created: 3, invalid: 1 } });
  expect(views[0].report).toEqual([expect.objectContaining({ line: 4, outcome: 'invalid' })]);
  expect(views[1]).toMatchObject({ status: 'DONE', counts: { created: 1 } });
  const creator = outcomes.find((o) => o.routeKey === 'POST /v2/imports')!.function;
  expect(w.endpoint.presignedUploads).toEqual([
    {
      signer: creator,
      bucket: [...w.stack.buckets][0],
      key: expect.stringMatching(/^imports\//),
      bytes: Buffer.byteLength(IMPORT_FILE),
    },
  ]);
  // The job worker read the file (S3 GetObject under its own role) and created the devices.
  const worker = w.fn('SweeperWorker').logicalId;
  expect(w.endpoint.calls.filter((c) => c.action === 's3:GetObject').map((c) => c.function)).toContain(worker);
  for (const id of [...IMPORT_ROWS, 'imp-4'])
    expect((await w.request('GET', `/v2/devices/${id}`)).body).toMatchObject({ id, dms_owner: 'dms-imp' });
}

/**
 * Per-DMS AWS IoT provisioning (docs/iot-provisioning.md): a DMS with a policy and a thing group, another
 * with a JITP template, and a device of the first bound to a certificate.
 */
export async function iotProvisioningFlow(w: World): Promise<{ pem: string }> {
  const settings = { preventive_delta: '60d', critical_delta: '14d' };
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] };
  const iot = { policies: [{ name: 'sim-connect', document }], thing_groups: ['sim-line'] };
  must(await w.request('PUT', '/v2/dms/dms-iot', { body: { settings, iot } }), (r) => r.status === 200);
  const template = { name: 'sim-jitp', body: { Resources: { thing: { Type: 'AWS::IoT::Thing' } } } };
  must(
    await w.request('PUT', '/v2/dms/dms-jitp', {
      body: { settings, iot: { registration: 'jitp', provisioning_template: template } },
    }),
    (r) => r.status === 200,
  );
  must(
    await w.request('POST', '/v2/devices', { body: { id: 'sim-iot-1', dms_id: 'dms-iot' } }),
    (r) => r.status === 201,
  );
  const { pem } = await certificate({ notAfter: inDays(200), subject: 'CN=sim-iot-1' });
  must(await w.request('PUT', '/v2/devices/sim-iot-1/idslot', { body: { certificate: pem } }), (r) => r.status === 200);
  return { pem };
}

/** Registers the test file's tests for one profile. */
export function simulateProfile(name: ProfileName): void {
  let result: SynthResult;
  let world: World | undefined;
  let ca: CaFake | undefined;
  const manifest = readManifest();
  result = manifest.results.find((r) => r.profile === name)!;

  beforeAll(async () => {
    if (!result.ok) return;
    world = await startWorld(result);
    if ([...world.stack.functions.values()].some((f) => f.environment.CA_API_URL))
      ca = await startCaFake(manifest.caPort);
    const caSecret = [...world.stack.functions.values()]
      .map((f) => f.environment.CA_AUTH_HEADER_SECRET_ARN)
      .find(Boolean);
    if (caSecret) world.endpoint.secretValues.set(caSecret, 'Bearer sim-ca-token');
  });
  afterAll(async () => {
    await world?.stop();
    if (ca) await new Promise((resolve) => ca!.server.close(resolve));
  });

  const needWorld = (): World => {
    if (!world) throw new Error(`profile ${name} did not synthesize`);
    return world;
  };

  it('synthesizes with bundling for account 123456789012 in eu-west-1 with no validation finding', () => {
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    // Both plugins of bin/app.ts ran over the template and found nothing unacknowledged.
    const report = JSON.parse(readFileSync(path.join(result.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string }[];
    };
    expect(report.pluginReports.find((p) => p.pluginName === 'cdk-validator-cfnguard')?.conclusion).toBe('success');
  });

  it('serves every route of the template from its bundle, under its role, with its environment', async () => {
    const w = needWorld();
    const outcomes = await driveRoutes(w);
    const missed = outcomes
      .filter((o) => !meetsExpectation(o))
      .map((o) => `${o.routeKey} → ${o.status} (expected ${o.expected}): ${JSON.stringify(o.body).slice(0, 300)}`);
    expect(missed).toEqual([]);
    const called = new Set(outcomes.map((o) => o.routeKey));
    expect(w.stack.routes.map((r) => r.routeKey).filter((k) => !called.has(k))).toEqual([]);
    expect(describeDenials(w)).toEqual([]);
    if (w.hasRoute('POST', '/v2/imports')) await expectImported(w, outcomes);
  });

  it('publishes the outbox from the table stream to the bus, and the rules deliver it', async () => {
    const w = needWorld();
    await w.settle();
    expect(describeFailures(w)).toEqual([]);
    const types = w.busEvents.map((e) => e.event['detail-type']);
    expect(types).toEqual(expect.arrayContaining(['device.create', 'device.identity.update', 'device.status.update']));
    expect(describeDenials(w)).toEqual([]);
  });

  it('the certificate intake applies a CA status update from its rule', async () => {
    const w = needWorld();
    const { pem } = await certificateStatusFlow(w);
    await w.settle();
    expect(describeFailures(w)).toEqual([]);
    expect((await w.request('GET', '/v2/devices/sim-ca-1')).body).toMatchObject({
      status: 'REVOKED',
      identity: { status: 'REVOKED' },
    });
    if (
      w.stack.functions.size > 0 &&
      [...w.stack.functions.values()].some((f) => f.environment.IOT_SYNC_ENABLED === 'true')
    ) {
      // The IoT sync followed the device: a thing with the certificate attached, then marked revoked.
      expect(w.endpoint.things.get('sim-ca-1')?.attributes.status).toBe('REVOKED');
      expect(w.endpoint.iotCalls.map((c) => c.action)).toEqual(
        expect.arrayContaining(['CreateThing', 'RegisterCertificateWithoutCA', 'AttachThingPrincipal']),
      );
      // Registered by the sync, then revoked (KeyCompromise is final: REVOKED, not a hold's INACTIVE).
      expect(w.endpoint.certificates.get(iotCertificateId(pem))).toBe('REVOKED');
      // The revocation opened `revoked-still-active-in-iot`; the sync resolved it under its own role.
      const detailOf = (e: Record<string, any>) => (typeof e.detail === 'string' ? JSON.parse(e.detail) : e.detail);
      const iotFinding = w.busEvents
        .map((e) => detailOf(e.event))
        .filter((d) => d?.data?.check === 'revoked-still-active-in-iot' && d.data.device_id === 'sim-ca-1')
        .map((d) => d.type);
      expect(iotFinding).toEqual(['device.finding.open', 'device.finding.resolve']);
      const findings = (await w.request('GET', '/v2/devices/sim-ca-1')).body.findings;
      expect(findings.filter((f: { check: string }) => f.check === 'revoked-still-active-in-iot')).toEqual([]);
    }
    if (ca) {
      // The CA caller put the revocation of the decommissioned Lamassu device's identity, with the secret's header.
      expect(ca.requests.length).toBeGreaterThan(0);
      expect(ca.requests[0]).toMatchObject({ method: 'PUT', authorization: 'Bearer sim-ca-token' });
    }
    expect(describeDenials(w)).toEqual([]);
  });

  it(
    'the sweeper, from its schedule, moves a device whose DMS ' +
      'policy changed past its renewal boundary to RENEWAL_PENDING',
    async () => {
      const w = needWorld();
      await policyChange(w);
      const sweep = await w.schedule(w.fn('SweeperSweep'));
      expect(describeDenials(w)).toEqual([]);
      expect(sweep.ok).toBe(true);
      // The dispatcher only sent tasks; the job worker takes them from both queues (and their follow-ups).
      expect(sweep.result).toMatchObject({ jobTasks: expect.any(Number) });
      await w.settle();
      expect(w.invocations.some((i) => i.function === w.fn('SweeperWorker').logicalId)).toBe(true);
      expect((await w.request('GET', '/v2/devices/sim-sweep')).body.status).toBe('RENEWAL_PENDING');
      if (syncsIot(w)) {
        await w.settle();
        // The IoT sync asked the device to renew through its classic shadow, at the boundary crossed
        // (expiration − the new 90-day preventive delta), after looking the data endpoint up.
        const { identity } = (await w.request('GET', '/v2/devices/sim-sweep')).body;
        const boundary = Math.floor((Date.parse(identity.expiration_date) - 90 * 86_400_000) / 1000);
        expect(w.endpoint.shadows.get('sim-sweep')).toEqual({ identity_actions: { UPDATE_CERTIFICATE: boundary } });
        expect(w.endpoint.iotCalls.map((c) => c.action)).toContain('DescribeEndpoint');
      }
      // The sweep back-fills the indexed keys: the metadata statistics answer.
      if (isIndexed(w, 'model')) expect((await w.request('GET', '/v2/stats/metadata/model')).status).toBe(200);
      await w.settle();
      expect(describeFailures(w)).toEqual([]);
    },
  );

  it('presence: an AWS IoT lifecycle event through the rule and queue becomes the device connectivity', async () => {
    const w = needWorld();
    if (w.stack.topicRules.length === 0) return;
    const timestamp = Date.now();
    w.publishIot('$aws/events/presence/connected/sim-ca-1', {
      clientId: 'sim-ca-1',
      timestamp,
      eventType: 'connected',
      sessionIdentifier: '00000000-0000-0000-0000-000000000000',
      principalIdentifier: '12345678901234567890123456789012',
      ipAddress: '192.0.2.0',
      versionNumber: 0,
    });
    await w.settle();
    expect(describeFailures(w)).toEqual([]);
    const since = new Date(timestamp).toISOString();
    expect((await w.request('GET', '/v2/devices/sim-ca-1')).body.connectivity).toEqual({
      connected: true,
      since,
      last_seen: since,
    });
    const listed = await w.request('GET', '/v2/devices', { query: { filter: 'connected[eq]true' } });
    expect(listed.body.list.map((d: { id: string }) => d.id)).toEqual(['sim-ca-1']);
    // Counted by the counter applier from the stream (its filter lets the connectivity item through).
    expect((await w.request('GET', '/v2/stats/connectivity')).body).toMatchObject({ connected: 1, disconnected: 0 });
    // The hourly count of devices in service not seen for notSeenDays: sim-ca-1 is connected.
    const count = await w.schedule(w.fn('PresenceNotSeen'));
    expect(count.ok).toBe(true);
    expect(count.result).toEqual({ days: 7, notSeen: 0 });
    expect(describeDenials(w)).toEqual([]);
  });

  it(
    'the counter applier, fed by the table stream ' +
      'under its own role, keeps the statistics ' +
      'equal to the devices',
    async () => {
      const w = needWorld();
      await w.settle();
      let listed = 0;
      let next = '';
      do {
        const query = { page_size: '100', ...(next ? { bookmark: next } : {}) };
        const page = await w.request('GET', '/v2/devices', { query });
        listed += page.body.list.length;
        next = page.body.next;
      } while (next);
      const stats = (await w.request('GET', '/v2/stats/devices')).body;
      expect(listed).toBeGreaterThan(0);
      expect(stats.total).toBe(listed);
      // Every change committed before consistent_as_of is counted: the last ones were committed moments ago.
      expect(Date.parse(stats.consistent_as_of)).toBeGreaterThan(Date.now() - 10 * 60_000);
      expect(describeFailures(w)).toEqual([]);
      expect(describeDenials(w)).toEqual([]);
    },
  );

  it('the counter applier judges shared-certificate and shared-key from the holder index under its role', async () => {
    const w = needWorld();
    // The devices are judged once the sweeper's walks (posture, the holder index back-fill) are done.
    for (let run = 0; run < 5 && (await w.request('GET', '/v2/findings')).status !== 200; run++) {
      await w.schedule(w.fn('SweeperSweep'));
      await w.settle();
    }
    expect((await w.request('GET', '/v2/findings')).status).toBe(200);
    const { pem } = await certificate({ notAfter: inDays(300), subject: 'CN=sim-twin' });
    for (const id of ['sim-twin-1', 'sim-twin-2']) {
      must(await w.request('POST', '/v2/devices', { body: { id, dms_id: 'dms-twin' } }), (r) => r.status === 201);
      must(await w.request('PUT', `/v2/devices/${id}/idslot`, { body: { certificate: pem } }), (r) => r.status === 200);
    }
    await w.settle();
    expect(describeFailures(w)).toEqual([]);
    expect(describeDenials(w)).toEqual([]);
    for (const id of ['sim-twin-1', 'sim-twin-2']) {
      const findings = (await w.request('GET', `/v2/devices/${id}`)).body.findings;
      expect(findings.map((f: { check: string }) => f.check)).toEqual(['shared-certificate', 'shared-key']);
    }
  });

  it('a remediation job sent by its route to the jobs queue runs on the worker, each device once', async () => {
    const w = needWorld();
    for (const id of ['sim-job-1', 'sim-job-2'])
      must(
        await w.request('POST', '/v2/devices', { body: { id, dms_id: 'dms-job', tags: ['remediate'] } }),
        (r) => r.status === 201,
      );
    const created = await w.request('POST', '/v2/jobs', {
      body: { filter: ['tags[ct]remediate'], action: { type: 'merge-metadata', metadata: { fixed: true } } },
    });
    expect(created.status).toBe(202);
    await w.settle();
    expect(w.invocations.some((i) => i.function === w.fn('SweeperWorker').logicalId)).toBe(true);
    const job = (await w.request('GET', `/v2/jobs/${created.body.id}`)).body;
    expect(job).toMatchObject({ status: 'SUCCEEDED', counts: { matched: 2, done: 2, skipped: 0, failed: 0 } });
    const outcomes = (await w.request('GET', `/v2/jobs/${created.body.id}/devices`)).body.list;
    expect(outcomes.map((o: { device_id: string; outcome: string }) => `${o.device_id} ${o.outcome}`)).toEqual([
      'sim-job-1 done',
      'sim-job-2 done',
    ]);
    expect((await w.request('GET', '/v2/devices/sim-job-2')).body).toMatchObject({
      version: 2,
      metadata: { fixed: true },
    });
    expect((await w.request('POST', `/v2/jobs/${created.body.id}/cancel`)).status).toBe(409);
    // The dispatcher finds no stalled job (it reads the unfinished ones under its own role).
    const sweep = await w.schedule(w.fn('SweeperSweep'));
    expect(sweep.result).toMatchObject({ jobsResumed: 0 });
    expect(describeDenials(w)).toEqual([]);
    expect(describeFailures(w)).toEqual([]);
  });

  it("the IoT sync provisions a DMS's policies, thing groups and JITP template under its role", async () => {
    const w = needWorld();
    const sync = [...w.stack.functions.values()].find((f) => f.environment.IOT_SYNC_ENABLED === 'true');
    if (!sync) return;
    const { pem } = await iotProvisioningFlow(w);
    await w.settle();
    expect(describeFailures(w)).toEqual([]);
    expect(describeDenials(w)).toEqual([]);
    const certificateArn = `arn:aws:iot:${w.stack.region}:${w.stack.account}:cert/${iotCertificateId(pem)}`;
    expect(w.endpoint.iotPolicies.get('sim-connect')).toHaveLength(1);
    expect([...(w.endpoint.policyTargets.get('sim-connect') ?? [])]).toEqual([certificateArn]);
    expect([...(w.endpoint.thingGroups.get('sim-line') ?? [])]).toEqual(['sim-iot-1']);
    // The template names the stack's provisioning role, which the sync may pass to AWS IoT only.
    // The sync is the function that is given the role (the presence function is IoT-enabled too).
    const roleArn = [...w.stack.functions.values()]
      .map((f) => f.environment.IOT_PROVISIONING_ROLE_ARN)
      .find((arn) => arn !== undefined);
    expect(roleArn).toMatch(/ProvisioningRole/);
    expect(w.endpoint.templates.get('sim-jitp')).toMatchObject({ roleArn, type: 'JITP' });
    expect((await w.request('GET', '/v2/devices/sim-iot-1')).body.iot).toMatchObject({
      thing_groups: ['sim-line'],
      policies: ['sim-connect'],
    });
  });

  it('made no AWS call its role does not allow, and no call the simulation does not know', () => {
    const w = needWorld();
    expect(describeDenials(w)).toEqual([]);
    expect(w.endpoint.unsupported).toEqual([]);
    expect(w.endpoint.calls.length).toBeGreaterThan(0);
  });
}
