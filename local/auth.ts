/**
 * JWT verification for the local service, as API Gateway's JWT authorizer does it: a bearer token
 * signed by a key of the JWKS, with the configured issuer and audience, whose `scope` (space
 * separated) or `scp` claim holds the route's scope (after AUTH_SCOPE_PREFIX). Off unless AUTH_JWKS is set.
 */
import { readFileSync } from 'node:fs';
import { requiredScope, type Scope } from '../functions/handlers/http/routes';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';

export interface LocalAuthConfig {
  /** A JWKS file path or an http(s) URL. */
  jwks: string;
  issuer: string;
  audience: string[];
  /** Put before every route scope (AUTH_SCOPE_PREFIX, like the deployed `auth.scopePrefix`); default none. */
  scopePrefix?: string;
}

export type AuthResult = { ok: true; claims: JWTPayload; scopes: string[] } | { ok: false; status: 401 | 403; message: string };

/** Reads AUTH_JWKS, AUTH_ISSUER, AUTH_AUDIENCE (comma separated), AUTH_SCOPE_PREFIX; undefined when auth is off. */
export function authConfigFrom(env: Record<string, string | undefined>): LocalAuthConfig | undefined {
  if (!env.AUTH_JWKS) return undefined;
  const issuer = env.AUTH_ISSUER;
  const audience = (env.AUTH_AUDIENCE ?? '').split(',').filter(Boolean);
  if (!issuer) throw new Error('configuration AUTH_ISSUER: is required with AUTH_JWKS');
  if (audience.length === 0) throw new Error('configuration AUTH_AUDIENCE: is required with AUTH_JWKS');
  const scopePrefix = env.AUTH_SCOPE_PREFIX;
  if (scopePrefix !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]{0,200}$/.test(scopePrefix)) throw new Error('configuration AUTH_SCOPE_PREFIX: must be printable characters without spaces, quotes or backslashes');
  return { jwks: env.AUTH_JWKS, issuer, audience, ...(scopePrefix ? { scopePrefix } : {}) };
}

export function jwtAuthorizer(config: LocalAuthConfig): (authorization: string | undefined, scope: Scope) => Promise<AuthResult> {
  const keys: JWTVerifyGetKey = /^https?:\/\//.test(config.jwks)
    ? createRemoteJWKSet(new URL(config.jwks))
    : createLocalJWKSet(JSON.parse(readFileSync(config.jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
  return async (authorization, scope) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return { ok: false, status: 401, message: 'missing bearer token' };
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, { issuer: config.issuer, audience: config.audience }));
    } catch (error) {
      const reason = error instanceof errors.JOSEError ? error.code : 'invalid token';
      return { ok: false, status: 401, message: `invalid token (${reason})` };
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : Array.isArray(claims.scp) ? (claims.scp as string[]) : [];
    const required = requiredScope(scope, config.scopePrefix);
    if (!scopes.includes(required)) return { ok: false, status: 403, message: `token lacks the scope ${required}` };
    return { ok: true, claims, scopes };
  };
}
