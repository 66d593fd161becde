/**
 * JWT verification for the local service, as API Gateway's JWT authorizer does it (no laxer): a
 * bearer token whose header names (`kid`) a key of the JWKS, signed with an RSA algorithm (RS256,
 * RS384, RS512), with the configured issuer, `aud` (or, without `aud`, `client_id`) one of the
 * audiences, an `exp` in the future, `nbf` and `iat` (when present) not in the future, and whose
 * `scope` (space separated) or `scp` claim holds the route's scope (after AUTH_SCOPE_PREFIX). Off
 * unless AUTH_JWKS is set.
 */
import { readFileSync } from 'node:fs';
import { requiredScope, type Scope } from '../functions/http/routes';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';

/** API Gateway's HTTP API JWT authorizer verifies RSA signatures only. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512'];

export interface LocalAuthConfig {
  /** A JWKS file path or an http(s) URL. */
  jwks: string;
  issuer: string;
  audience: string[];
  /** Put before every route scope (AUTH_SCOPE_PREFIX, like the deployed `auth.scopePrefix`); default none. */
  scopePrefix?: string;
}

export type AuthResult =
  | { ok: true; claims: JWTPayload; scopes: string[] }
  | { ok: false; status: 401 | 403; message: string };

/** Reads AUTH_JWKS, AUTH_ISSUER, AUTH_AUDIENCE (comma separated), AUTH_SCOPE_PREFIX; undefined when auth is off. */
export function authConfigFrom(env: Record<string, string | undefined>): LocalAuthConfig | undefined {
  if (!env.AUTH_JWKS) return undefined;
  const issuer = env.AUTH_ISSUER;
  const audience = (env.AUTH_AUDIENCE ?? '').split(',').filter(Boolean);
  if (!issuer) throw new Error('configuration AUTH_ISSUER: is required with AUTH_JWKS');
  if (audience.length === 0) throw new Error('configuration AUTH_AUDIENCE: is required with AUTH_JWKS');
  const scopePrefix = env.AUTH_SCOPE_PREFIX;
  if (scopePrefix !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]{0,200}$/.test(scopePrefix))
    throw new Error(
      'configuration AUTH_SCOPE_PREFIX: must be printable characters without spaces, quotes or backslashes',
    );
  return { jwks: env.AUTH_JWKS, issuer, audience, ...(scopePrefix ? { scopePrefix } : {}) };
}

export function jwtAuthorizer(
  config: LocalAuthConfig,
): (authorization: string | undefined, scope: Scope) => Promise<AuthResult> {
  const keys: JWTVerifyGetKey = /^https?:\/\//.test(config.jwks)
    ? createRemoteJWKSet(new URL(config.jwks))
    : createLocalJWKSet(JSON.parse(readFileSync(config.jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
  return async (authorization, scope) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return { ok: false, status: 401, message: 'missing bearer token' };
    const invalid = (reason: string): AuthResult => ({ ok: false, status: 401, message: `invalid token (${reason})` });
    let claims: JWTPayload;
    try {
      // Without a kid, jose would try the only key of a one-key JWKS; API Gateway refuses the token.
      if (typeof decodeProtectedHeader(token).kid !== 'string') return invalid('no kid in the header');
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        algorithms: JWT_ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      return invalid(error instanceof errors.JOSEError ? error.code : 'invalid token');
    }
    // API Gateway reads client_id only when the token has no aud (access tokens of some issuers).
    const audiences = claims.aud !== undefined ? [claims.aud].flat() : [claims.client_id];
    if (!audiences.some((a) => typeof a === 'string' && config.audience.includes(a)))
      return invalid('audience not accepted');
    if (claims.iat !== undefined && claims.iat > Math.floor(Date.now() / 1000)) return invalid('iat in the future');
    const scopes =
      typeof claims.scope === 'string'
        ? claims.scope.split(' ')
        : Array.isArray(claims.scp)
          ? (claims.scp as string[])
          : [];
    const required = requiredScope(scope, config.scopePrefix);
    if (!scopes.includes(required)) return { ok: false, status: 403, message: `token lacks the scope ${required}` };
    return { ok: true, claims, scopes };
  };
}
