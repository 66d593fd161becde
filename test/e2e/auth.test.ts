/**
 * End to end: the local service verifying real signed JWTs (JWKS file, issuer, audience, scopes),
 * as API Gateway's JWT authorizer does in AWS.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startLocalService, type LocalService } from '../../local/main';

const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'device-manager';
let service: LocalService;
let sign: (
  claims: Record<string, unknown>,
  options?: { issuer?: string; audience?: string; expires?: string },
) => Promise<string>;
let foreignSign: typeof sign;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const dir = mkdtempSync(path.join(tmpdir(), 'jwks-'));
  const jwksPath = path.join(dir, 'jwks.json');
  writeFileSync(
    jwksPath,
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }),
  );
  const signer =
    (key: CryptoKeyLike) =>
    async (claims: Record<string, unknown>, options: { issuer?: string; audience?: string; expires?: string } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(options.issuer ?? ISSUER)
        .setAudience(options.audience ?? AUDIENCE)
        .setSubject('operator-1')
        .setIssuedAt()
        .setExpirationTime(options.expires ?? '5m')
        .sign(key);
  sign = signer(privateKey);
  foreignSign = signer(foreign.privateKey);
  service = await startLocalService({
    env: {
      IN_MEMORY: 'true',
      PORT: '0',
      TABLE_NAME: `devices-${randomUUID()}`,
      SWEEP_INTERVAL_SECONDS: '0',
      AUTH_JWKS: jwksPath,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
    },
    quiet: true,
  });
});
afterAll(async () => {
  await service.stop();
});

type CryptoKeyLike = Parameters<SignJWT['sign']>[0];

async function call(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('JWT auth on the local service', () => {
  it('401 without a token, with a forged, expired, foreign-issuer or wrong-audience token', async () => {
    expect(await call('GET', '/v2/devices')).toEqual({
      status: 401,
      body: { err: 'missing bearer token', code: 'UNAUTHORIZED' },
    });
    const scoped = { scope: 'devices:read' };
    for (const token of [
      await foreignSign(scoped),
      await sign(scoped, { expires: '-1m' }),
      await sign(scoped, { issuer: 'https://elsewhere.test/' }),
      await sign(scoped, { audience: 'another-api' }),
      'not.a.jwt',
    ]) {
      const r = await call('GET', '/v2/devices', token);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHORIZED');
    }
  });

  it('403 with a valid token that lacks the route scope', async () => {
    const reader = await sign({ scope: 'devices:read' });
    const r = await call('POST', '/v2/devices', reader, { id: 'jwt-1', dms_id: 'dms' });
    expect(r).toEqual({ status: 403, body: { err: 'token lacks the scope devices:write', code: 'FORBIDDEN' } });
    expect(
      (
        await call('PUT', '/v2/dms/dms', await sign({ scope: 'devices:write' }), {
          settings: { preventive_delta: '60d', critical_delta: '14d' },
        })
      ).status,
    ).toBe(403);
  });

  it('200/201 with the right scope (space-separated scope or scp array)', async () => {
    const writer = await sign({ scope: 'devices:read devices:write' });
    expect((await call('POST', '/v2/devices', writer, { id: 'jwt-2', dms_id: 'dms' })).status).toBe(201);
    expect((await call('GET', '/v2/devices/jwt-2', await sign({ scp: ['devices:read'] }))).status).toBe(200);
  });

  it("serves Lamassu's health check without auth (as Lamassu does), and only that route", async () => {
    const body = { health: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/), build: '', build_time: '' };
    expect(await call('GET', '/api/devmanager/health')).toEqual({ status: 200, body });
    // The Lamassu dashboard sends its own bearer token (BackendStatusDialog.tsx:59-61): not checked here.
    expect(await call('GET', '/api/devmanager/health', await foreignSign({ scope: 'devices:read' }))).toEqual({
      status: 200,
      body,
    });
    expect((await call('GET', '/api/devmanager/v1/stats')).status).toBe(401);
    expect((await call('GET', '/api/devmanager/v1/devices')).status).toBe(401);
  });
});
