/**
 * Hostile requests at the edges of the service: the local-only routes and the Host header, a JWT
 * authorizer no laxer than API Gateway's, strings the API would store altered, negative serials,
 * non-canonical bookmark signatures, file modes of the local data, aborted uploads, and the CLI
 * sending a token in clear text.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { LocalService } from '../../local/main';
import { startLocalServer } from '../../local/server';
import { certificate } from '../support/certificates';
import { cli } from '../support/cli';
import { call, startTestService } from '../support/http';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'device-manager';
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

type Key = Parameters<SignJWT['sign']>[0];
interface TokenOptions {
  alg?: string;
  kid?: string | null;
  key?: Key;
  exp?: number | null;
  iat?: number;
  nbf?: number;
  aud?: string | null;
}

let dir: string;
let secured: LocalService;
let open: LocalService;
let rsa: Key;
let ec: Key;
const now = () => Math.floor(Date.now() / 1000);

/** A token of the test issuer; each option bends one thing API Gateway checks. */
function token(claims: Record<string, unknown>, o: TokenOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = { iss: ISSUER, sub: 'operator-1', iat: o.iat ?? now(), ...claims };
  if (o.aud !== null) payload.aud = o.aud ?? AUDIENCE;
  if (o.exp !== null) payload.exp = o.exp ?? now() + 300;
  if (o.nbf !== undefined) payload.nbf = o.nbf;
  const header: { alg: string; kid?: string } = { alg: o.alg ?? 'RS256' };
  if (o.kid !== null) header.kid = o.kid ?? 'k1';
  return new SignJWT(payload).setProtectedHeader(header).sign(o.key ?? rsa);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hostile-edges-'));
  const rsaPair = await generateKeyPair('RS256');
  const ecPair = await generateKeyPair('ES256');
  rsa = rsaPair.privateKey;
  ec = ecPair.privateKey;
  const jwks = path.join(dir, 'jwks.json');
  writeFileSync(
    jwks,
    JSON.stringify({
      keys: [
        { ...(await exportJWK(rsaPair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ecPair.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' },
      ],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The handlers share one composition per process: one local service at a time, per describe block.
function withSecuredService() {
  beforeAll(async () => {
    secured = await startTestService({
      AUTH_JWKS: path.join(dir, 'jwks.json'),
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
    });
  });
  afterAll(() => secured?.stop());
}
function withOpenService() {
  beforeAll(async () => {
    open = await startTestService({ ALLOWED_HOSTS: 'devices.internal.test' });
  });
  afterAll(() => open?.stop());
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const revocation = (serial: string) => ({
  source: 'ca.test',
  'detail-type': 'certificate.status.update',
  detail: { data: { updated: { serial_number: serial, status: 'REVOKED' } } },
});

/** A raw request with a Host header of our choosing (fetch does not let one set it). */
function withHost(url: string, p: string, host: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${p}`, { headers: { host } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local-only routes with JWT auth on', () => {
  withSecuredService();

  it('POST /_local/events needs a token with devices:write and a JSON body, like the API routes', async () => {
    const writer = await token({ scope: 'devices:read devices:write' });
    const { pem, serial } = await certificate({ notAfter: inDays(300) });
    expect(
      (await call(secured.url, 'POST', '/v2/devices', { id: 'local-1', dms_id: 'dms' }, bearer(writer))).status,
    ).toBe(201);
    expect(
      (await call(secured.url, 'PUT', '/v2/devices/local-1/idslot', { certificate: pem }, bearer(writer))).status,
    ).toBe(200);

    // What a page on another loopback port can send without a preflight: no token, text/plain.
    const simple = await fetch(`${secured.url}/_local/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(revocation(serial)),
    });
    expect(simple.status).toBe(401);
    expect(await simple.json()).toEqual({ err: 'missing bearer token', code: 'UNAUTHORIZED' });
    expect(
      await call(
        secured.url,
        'POST',
        '/_local/events',
        revocation(serial),
        bearer(await token({ scope: 'devices:read' })),
      ),
    ).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(
      await call(secured.url, 'POST', '/_local/events', JSON.stringify(revocation(serial)), {
        ...bearer(writer),
        'content-type': 'text/plain',
      }),
    ).toMatchObject({
      status: 415,
      body: { code: 'UNSUPPORTED_MEDIA_TYPE' },
    });
    await secured.events.drain();
    expect(
      (await call(secured.url, 'GET', '/v2/devices/local-1', undefined, bearer(writer))).body.identity.status,
    ).toBe('ACTIVE');

    // `npm run event` sends LOCAL_TOKEN.
    const { stdout } = await run(
      process.execPath,
      [
        path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        path.join(REPO_ROOT, 'local', 'event.ts'),
        'certificate-revoked',
        serial,
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          LOCAL_URL: secured.url,
          LOCAL_TOKEN: writer,
          DEVICE_MANAGER_TOKEN: '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    expect(stdout).toContain('certificate-status: applied');
    await secured.events.drain();
    expect(
      (await call(secured.url, 'GET', '/v2/devices/local-1', undefined, bearer(writer))).body.identity.status,
    ).toBe('REVOKED');
  }, 60_000);

  describe('the local JWT authorizer is no laxer than API Gateway', jwtCases);
});

describe('the Host header', () => {
  withOpenService();

  it('serves loopback Host names (and ALLOWED_HOSTS) with its own port; any other Host gets 421', async () => {
    const { port } = new URL(open.url);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      'localhost',
      `devices.internal.test:${port}`,
    ]) {
      expect([host, (await withHost(open.url, '/v2/devices', host)).status]).toEqual([host, 200]);
    }
    for (const host of [
      `attacker.example:${port}`,
      `127.0.0.1.attacker.example:${port}`,
      `localhost:${Number(port) + 1}`,
      `localhost.attacker.example:${port}`,
      'localhost:abc',
    ]) {
      const reply = await withHost(open.url, '/v2/devices', host);
      expect([host, reply.status, reply.body?.code]).toEqual([host, 421, 'MISDIRECTED_REQUEST']);
    }
    // A rebound name reaches neither the dashboard nor the local routes.
    expect((await withHost(open.url, '/', `attacker.example:${port}`)).status).toBe(421);
  });
});

function jwtCases() {
  const get = async (t: string) => call(secured.url, 'GET', '/v2/devices', undefined, bearer(t));
  const reader = { scope: 'devices:read' };

  it('refuses a token without exp, with iat or nbf in the future, without kid, or signed with ES256', async () => {
    const cases: [string, Promise<string>][] = [
      ['no exp', token(reader, { exp: null })],
      ['iat in the future', token(reader, { iat: now() + 600 })],
      ['nbf in the future', token(reader, { nbf: now() + 600 })],
      ['no kid', token(reader, { kid: null })],
      ['ES256 with a key of the JWKS', token(reader, { alg: 'ES256', kid: 'k2', key: ec })],
      ['expired', token(reader, { exp: now() - 60 })],
      ['unknown kid', token(reader, { kid: 'k9' })],
      ['kid of the other key', token(reader, { kid: 'k2' })],
      ['wrong audience', token(reader, { aud: 'another-api' })],
      ['wrong audience, right client_id', token({ ...reader, client_id: AUDIENCE }, { aud: 'another-api' })],
    ];
    for (const [name, t] of cases) {
      const reply = await get(await t);
      expect([name, reply.status, reply.body.code]).toEqual([name, 401, 'UNAUTHORIZED']);
    }
  });

  it('keeps refusing alg none and HS256 signed with the public key; a 16 KB token is a 431', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'x', scope: 'devices:read', iat: now(), exp: now() + 300 };
    expect((await get(`${b64({ alg: 'none', kid: 'k1' })}.${b64(claims)}.`)).status).toBe(401);
    const jwks = JSON.parse(readFileSync(path.join(dir, 'jwks.json'), 'utf8')) as { keys: unknown[] };
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    expect((await get(hs)).status).toBe(401);
    const huge = await fetch(`${secured.url}/v2/devices`, {
      headers: bearer(await token({ ...reader, pad: 'x'.repeat(16 * 1024) })),
    });
    expect(huge.status).toBe(431);
  });

  it(
    'accepts an RS256 token with kid, exp and iat; client_id stands ' + 'in for a missing aud, as API Gateway reads it',
    async () => {
      expect((await get(await token(reader))).status).toBe(200);
      expect((await get(await token({ ...reader, client_id: AUDIENCE }, { aud: null }))).status).toBe(200);
      expect((await get(await token({ ...reader, client_id: 'someone-else' }, { aud: null }))).status).toBe(401);
    },
  );
}

describe('what the API stores', () => {
  withOpenService();
  const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) =>
    call(open.url, method, p, body, headers);

  it(
    'refuses lone surrogates in group names, descriptions, criteria, ' +
      'metadata (keys and values), DMS names and reasons',
    async () => {
      const refused: [string, string, unknown][] = [
        ['POST', '/v2/device-groups', { name: 'x\ud800', criteria: [] }],
        ['POST', '/v2/device-groups', { name: 'x\udc00', criteria: [] }],
        ['POST', '/v2/device-groups', { name: 'ok', description: 'd\ud800', criteria: [] }],
        ['POST', '/v2/device-groups', { name: 'ok', criteria: [{ field: 'tags', operand: 'ct', value: 'v\udfff' }] }],
        ['POST', '/v2/devices', { id: 'sur-1', dms_id: 'dms', metadata: { nested: { deep: ['\ud83d'] } } }],
        ['POST', '/v2/devices', { id: 'sur-2', dms_id: 'dms', metadata: { 'k\udc00': 1 } }],
        [
          'PUT',
          '/v2/dms/dms-sur',
          { name: 'Factory \ud800', settings: { preventive_delta: '60d', critical_delta: '14d' } },
        ],
      ];
      for (const [method, p, body] of refused) {
        const reply = await api(method, p, body);
        expect([p, reply.status, reply.body.code, JSON.stringify(reply.body.details)]).toEqual([
          p,
          400,
          'VALIDATION_ERROR',
          expect.stringContaining('no lone surrogate'),
        ]);
      }
      expect((await api('GET', '/v2/devices/sur-1')).status).toBe(404);
      // U+FFFD and surrogate pairs are ordinary text; they no longer collide with a refused name.
      expect((await api('POST', '/v2/device-groups', { name: 'x\ufffd', criteria: [] })).status).toBe(201);
      expect((await api('POST', '/v2/device-groups', { name: 'x\ud83d\ude00', criteria: [] })).status).toBe(201);
      expect(
        (await api('POST', '/v2/devices', { id: 'sur-3', dms_id: 'dms', metadata: { emoji: '\ud83d\ude00' } })).status,
      ).toBe(201);
      expect(
        (
          await api(
            'PATCH',
            '/v2/devices/sur-3',
            { metadata: { emoji: '\ude00' } },
            { 'content-type': 'application/merge-patch+json' },
          )
        ).status,
      ).toBe(400);
      expect((await api('GET', '/v2/devices/sur-3')).body.metadata).toEqual({ emoji: '\ud83d\ude00' });
    },
  );

  it(
    'refuses a certificate with a negative serial (400 naming ' + 'the certificate) instead of dropping the sign',
    async () => {
      const pem = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'negative-serial.pem'), 'utf8');
      expect((await api('POST', '/v2/devices', { id: 'neg-1', dms_id: 'dms' })).status).toBe(201);
      const reply = await api('PUT', '/v2/devices/neg-1/idslot', { certificate: pem });
      expect(reply.status).toBe(400);
      expect(reply.body.details).toEqual([{ field: 'certificate', problem: expect.stringContaining('negative') }]);
      expect((await api('GET', '/v2/devices/neg-1')).body.status).toBe('NO_IDENTITY');
    },
  );

  it('refuses a bookmark whose signature has anything appended (=, !!) or a non-canonical last character', async () => {
    for (const id of ['bm-1', 'bm-2'])
      expect((await api('POST', '/v2/devices', { id, dms_id: 'dms-bm' })).status).toBe(201);
    const first = await api('GET', '/v2/devices?page_size=1&filter=dms_owner[eq]dms-bm');
    const next: string = first.body.next;
    expect(
      (await api('GET', `/v2/devices?page_size=1&filter=dms_owner[eq]dms-bm&bookmark=${encodeURIComponent(next)}`))
        .status,
    ).toBe(200);
    const [payload, signature] = next.split('.') as [string, string];
    // 16 bytes = 22 characters; the last one carries 4 spare bits that a lax decoder ignores.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    const spare = `${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    for (const bad of [`${next}=`, `${next}!!`, `${next}==`, `${payload}.${spare}`]) {
      const reply = await api(
        'GET',
        `/v2/devices?page_size=1&filter=dms_owner[eq]dms-bm&bookmark=${encodeURIComponent(bad)}`,
      );
      expect([bad, reply.status, reply.body.code]).toEqual([bad, 400, 'INVALID_BOOKMARK']);
    }
  });
});

describe('the local service process', () => {
  it('creates its data folder 0700 and its files 0600 (engine data, bookmark key, events)', async () => {
    const data = path.join(dir, 'data');
    const service = await startTestService({
      IN_MEMORY: 'false',
      DATA_DIR: path.join(data, 'dynamodb'),
      LOCAL_EVENTS_FILE: path.join(data, 'events.ndjson'),
    });
    try {
      expect((await call(service.url, 'POST', '/v2/devices', { id: 'mode-1', dms_id: 'dms' })).status).toBe(201);
      await service.events.drain();
    } finally {
      await service.stop();
    }
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(data)).toBe(0o700);
    expect(mode(path.join(data, 'dynamodb'))).toBe(0o700);
    const files = [
      path.join(data, 'dynamodb.bookmark-secret'),
      path.join(data, 'events.ndjson'),
      ...readdirSync(path.join(data, 'dynamodb')).map((f) => path.join(data, 'dynamodb', f)),
    ];
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((f) => statSync(f).isFile()).map((f) => [path.basename(f), mode(f)])).toEqual(
      files.filter((f) => statSync(f).isFile()).map((f) => [path.basename(f), 0o600]),
    );
  });

  it('answers nothing and logs nothing when a client aborts an upload', async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let handled = 0;
    const server = await startLocalServer({
      routes: [{ method: 'POST', path: '/v2/upload', handler: 'upload', scope: 'devices:write', table: 'none' }],
      loadHandler: async () => async () => ({ statusCode: 200, body: String(++handled) }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write(
            `POST /v2/upload HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: ` +
              `application/json\r\nContent-Length: 100000\r\n\r\n{"id":"`,
          );
          // Once the server has the headers, vanish mid-body.
          setImmediate(() => socket.resetAndDestroy());
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      // A whole request afterwards still works: the abort broke nothing.
      expect((await fetch(`${server.url}/v2/upload`, { method: 'POST', body: '{}' })).status).toBe(200);
    } finally {
      await server.close();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(handled).toBe(1);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });
});

describe('the CLI and a bearer token', () => {
  withOpenService();
  it('refuses to send a token over plain http to a host that is not loopback, unless --insecure', async () => {
    const refused = await cli(['stats', '--api', 'http://devices.example.test', '--token', 'secret-token']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to send the token in clear text to http://devices.example.test');
    const fromEnv = await cli(['stats', '--api', 'http://10.0.0.5:3000'], { DEVICE_MANAGER_TOKEN: 'secret-token' });
    expect(fromEnv.stderr).toContain('refusing to send the token in clear text');
    // --insecure goes past the check to the network (port 1 of this machine: refused at once).
    const insecure = await cli([
      'stats',
      '--api',
      'http://0.0.0.0:1',
      '--token',
      'secret-token',
      '--insecure',
      '--retries',
      '0',
    ]);
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).not.toContain('refusing');
    // Loopback over http is fine.
    const local = await cli(['stats', '--api', open.url, '--token', 'secret-token']);
    expect([local.code, local.stderr]).toEqual([0, '']);
    expect(local.stdout).toContain('total');
  });
});
