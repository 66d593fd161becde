/**
 * End to end: the CLI's authentication. `--token` / DEVICE_MANAGER_TOKEN against the local service
 * verifying real JWTs (AUTH_JWKS), and `--aws` SigV4 headers as received by a loopback server,
 * checked against an independent computation.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { cli, summaryCounts } from '../support/cli';
import { signingKey } from '../support/jwks';
import { independentSignature } from '../support/sigv4';
import { startLocalService, type LocalService } from '../../local/main';

const dir = mkdtempSync(path.join(tmpdir(), 'cli-auth-'));
const file = path.join(dir, 'three.csv');
writeFileSync(file, 'id,dms_id,tags\njwt-1,dms-1,a\njwt-2,dms-1,b\njwt-3,dms-2,c\n');

describe('--token against the local service with JWT auth', () => {
  let service: LocalService;
  let sign: (scope: string) => Promise<string>;

  beforeAll(async () => {
    const { jwks, privateKey } = await signingKey(dir);
    sign = (scope) =>
      new SignJWT({ scope })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer('https://issuer.test/')
        .setAudience('device-manager')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    service = await startLocalService({
      env: {
        IN_MEMORY: 'true',
        PORT: '0',
        TABLE_NAME: `devices-${randomUUID()}`,
        SWEEP_INTERVAL_SECONDS: '0',
        AUTH_JWKS: jwks,
        AUTH_ISSUER: 'https://issuer.test/',
        AUTH_AUDIENCE: 'device-manager',
      },
      quiet: true,
    });
  });
  afterAll(async () => {
    await service.stop();
  });

  it('imports with a writer token and reads stats with DEVICE_MANAGER_TOKEN', async () => {
    const imported = await cli([
      'import',
      file,
      '--api',
      service.url,
      '--token',
      await sign('devices:read devices:write'),
    ]);
    expect(summaryCounts(imported.stdout)).toMatchObject({ created: 3 });
    expect(imported.code).toBe(0);
    const stats = await cli(['stats', '--api', service.url], { DEVICE_MANAGER_TOKEN: await sign('devices:read') });
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^total\s+3\s+100.0$/m);
  });

  it('stops at the first 401 or 403 instead of failing every line', async () => {
    const anonymous = await cli(['stats', '--api', service.url]);
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toBe('device-manager: stats: 401 UNAUTHORIZED missing bearer token\n');
    const reader = await cli([
      'import',
      path.join(dir, 'three.csv'),
      '--api',
      service.url,
      '--token',
      await sign('devices:read'),
    ]);
    expect(reader.code).toBe(2);
    expect(reader.stderr).toContain(
      'device-manager: the API refused the credentials: 403 FORBIDDEN token lacks the scope devices:write',
    );
    expect(reader.stdout).toBe('');
  });

  it('refuses --token with --aws', async () => {
    const both = await cli(['stats', '--api', service.url, '--token', 'x', '--aws', '--region', 'eu-west-1']);
    expect(both).toEqual({
      code: 2,
      stdout: '',
      stderr: 'device-manager: pass either --token (or DEVICE_MANAGER_TOKEN) or --aws, not both\n',
    });
  });
});

describe('--aws SigV4 as the API receives it', () => {
  interface Received {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }
  const received: Received[] = [];
  let server: Server;
  let api: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const created = req.method === 'POST';
        res.writeHead(created ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(created ? { version: 1 } : { total: 0, status_distribution: {} }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as { port: number }).port}/prod`;
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'session-1',
    });
    delete process.env.AWS_PROFILE;
  });
  afterAll(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });

  it('signs every request for execute-api in the given region with the default credential chain', async () => {
    expect((await cli(['import', file, '--api', api, '--aws', '--region', 'eu-west-1'])).code).toBe(0);
    expect(
      (await cli(['stats', '--api', api, '--aws', '--region', 'eu-west-1', '--filter', 'dms_owner[eq]dms 1'])).code,
    ).toBe(0);
    expect(received.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'POST /prod/v2/devices',
      'POST /prod/v2/devices',
      'POST /prod/v2/devices',
      'GET /prod/v2/stats/devices',
    ]);
    for (const r of received) {
      const auth = new RegExp(
        '^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\\d{8})/eu-west-1/execute-api/aws4_request, ' +
          'SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$',
      ).exec(String(r.headers.authorization));
      expect(auth).not.toBeNull();
      const signed = auth![2]!.split(';');
      expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token']));
      expect(r.headers['x-amz-security-token']).toBe('session-1');
      const url = new URL(r.url, api);
      const expected = independentSignature({
        method: r.method,
        host: String(r.headers.host),
        path: url.pathname,
        query: [...url.searchParams],
        headers: Object.fromEntries(signed.filter((h) => h !== 'host').map((h) => [h, String(r.headers[h])])),
        body: r.body,
        region: 'eu-west-1',
        service: 'execute-api',
        amzDate: String(r.headers['x-amz-date']),
        secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      });
      expect(auth![3]).toBe(expected.signature);
    }
  });

  it('needs a region when the URL names none', async () => {
    const r = await cli(['stats', '--api', api, '--aws']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `device-manager: --aws: cannot tell the region from ${new URL(api).host}; ` +
        `pass --region or set AWS_REGION\n`,
    });
  });
});
