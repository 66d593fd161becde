import { SignJWT } from 'jose';
import { authConfigFrom } from '../../local/auth';
import { corsPolicyFrom } from '../../local/cors';
import { type LocalServer, startLocalServer } from '../../local/server';
import { signingKey } from '../support/jwks';

const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'device-manager';
const ALLOWED = 'https://dashboard.example.com';
const OPENAPI = '/v2/openapi.json';

let server: LocalServer;
let sign: (scope: string) => Promise<string>;

beforeAll(async () => {
  const { jwks, privateKey } = await signingKey();
  sign = (scope) =>
    new SignJWT({ scope })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('operator-1')
      .setExpirationTime('5m')
      .sign(privateKey);
  const env = {
    AUTH_JWKS: jwks,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_SCOPE_PREFIX: 'device-manager/',
    CORS_ALLOWED_ORIGINS: `${ALLOWED}, http://localhost:8080`,
  };
  server = await startLocalServer({ auth: authConfigFrom(env), cors: corsPolicyFrom(env) });
});
afterAll(async () => {
  await server.close();
});

const get = async (token: string, origin?: string) =>
  fetch(`${server.url}${OPENAPI}`, { headers: { authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) } });
const preflight = (origin: string) =>
  fetch(`${server.url}/v2/devices/d-1`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'PATCH',
      'access-control-request-headers': 'authorization,content-type,if-match',
    },
  });

describe('AUTH_SCOPE_PREFIX', () => {
  it('accepts a token with the prefixed scope and refuses one with the bare scope', async () => {
    expect((await get(await sign('openid device-manager/devices:read'))).status).toBe(200);
    const bare = await get(await sign('openid devices:read'));
    expect(bare.status).toBe(403);
    expect(await bare.json()).toEqual({ err: 'token lacks the scope device-manager/devices:read', code: 'FORBIDDEN' });
  });

  it('without the prefix, the bare scope is the one required', async () => {
    const config = authConfigFrom({ AUTH_JWKS: 'unused.json', AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    expect(config?.scopePrefix).toBeUndefined();
    expect(() =>
      authConfigFrom({
        AUTH_JWKS: 'unused.json',
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_SCOPE_PREFIX: 'a b/',
      }),
    ).toThrow(/^configuration AUTH_SCOPE_PREFIX/);
  });
});

describe('CORS_ALLOWED_ORIGINS', () => {
  it(
    'answers a preflight from an allowed origin with 204 and the ' + 'allowed methods and headers, without a token',
    async () => {
      const res = await preflight(ALLOWED);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('access-control-allow-methods')?.split(',')).toEqual(
        expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
      );
      expect(res.headers.get('access-control-allow-headers')?.split(',')).toEqual([
        'authorization',
        'content-type',
        'if-match',
      ]);
      expect(res.headers.get('vary')).toBe('origin');
      expect((await preflight('http://localhost:8080')).headers.get('access-control-allow-origin')).toBe(
        'http://localhost:8080',
      );
    },
  );

  it('gives a preflight from another origin no Access-Control-* header', async () => {
    const res = await preflight('https://evil.example.com');
    expect(res.status).toBe(204);
    expect([...res.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });

  it('adds the origin and the exposed ETag to responses for an allowed origin only', async () => {
    const token = await sign('device-manager/devices:read');
    const allowed = await get(token, ALLOWED);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-expose-headers')).toBe('etag');
    const other = await get(token, 'https://evil.example.com');
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // An error answer (403) carries the header too, so the browser client can read it.
    expect((await get(await sign('devices:read'), ALLOWED)).headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('is off without the variable (OPTIONS is then no route), and refuses a value that is not an origin', async () => {
    expect(corsPolicyFrom({})).toBeUndefined();
    expect(() =>
      corsPolicyFrom({ CORS_ALLOWED_ORIGINS: 'https://ok.example.com,https://bad.example.com/path' }),
    ).toThrow("configuration CORS_ALLOWED_ORIGINS: 'https://bad.example.com/path' is not an origin");
    const plain = await startLocalServer({});
    try {
      const res = await fetch(`${plain.url}${OPENAPI}`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });
});
