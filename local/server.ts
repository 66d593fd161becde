/**
 * The local API: turns each HTTP request into an API Gateway HTTP API (payload 2.0) event and invokes
 * the real Lambda handler of its route, exactly as API Gateway would.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtAuthorizer, type LocalAuthConfig } from './auth';
import { applyCors, type CorsPolicy } from './cors';
import {
  BodyTooLarge,
  compile,
  invocationOf,
  type JwtAuthorizer,
  type LambdaHandler,
  readBody,
  tooLargeAnswer,
} from './gateway';
import { authRefusal, hostGuard, isClientAbort, mediaTypeRefusal, type Refusal } from './guards';
import { HTTP_ROUTES, type HttpRoute, handlerFile, type Scope } from '../functions/http/routes';
import { prioritizeLightRequests } from '../functions/runtime/turns';
import type { DashboardRuntimeConfig } from '../web/runtime-config';
import { dashboardCsp } from '../web/security-headers';

export interface LocalServerOptions {
  port?: number;
  host?: string;
  routes?: readonly HttpRoute[];
  /** Resolves a route's handler module; defaults to importing its file (routes.ts `handlerFile`). */
  loadHandler?: (route: HttpRoute) => Promise<LambdaHandler>;
  /** Verify JWTs like the deployed JWT authorizer; off when absent. */
  auth?: LocalAuthConfig;
  /** Host names served besides the loopback ones (local/guards.ts); others get 421. */
  allowedHosts?: readonly string[];
  /**
   * Local-only endpoints (e.g. `POST /_local/events`), served before the API routes and never part
   * of HTTP_ROUTES, the OpenAPI document or the deployed API. They take and return JSON, and need a
   * token with their scope when `auth` is on, like the API routes.
   */
  localRoutes?: readonly LocalRoute[];
  /** Serves a request outside the API (the import upload URL) and says so; checked first. */
  rawHandler?: (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<boolean>;
  /** The built web dashboard, served at `/` (GET outside /v2): its folder and its runtime settings. */
  dashboard?: { dir: string; config: DashboardRuntimeConfig };
  /** Browser origins allowed to call the API (local/cors.ts); no CORS when absent. */
  cors?: CorsPolicy;
  /** Awaited before a route's handler runs (the local service: statistics wait for the counter feed). */
  beforeRoute?: (route: HttpRoute) => Promise<void> | undefined;
  /**
   * Heavy requests wait for light ones (functions/runtime/turns.ts), since every request shares
   * this process's event loop; default true.
   */
  prioritize?: boolean;
  /** Time each handler is given (its context's remaining time, which middy's timeout reads); default 30 s. */
  functionTimeoutMs?: number;
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface LocalRoute {
  method: 'GET' | 'POST';
  path: string;
  scope: Scope;
  handle(body: unknown): Promise<{ status: number; body: unknown }>;
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const defaultLoader = async (route: HttpRoute): Promise<LambdaHandler> => {
  const module = (await import(`../functions/${handlerFile(route.handler)}`)) as { handler: LambdaHandler };
  return module.handler;
};

function send(
  res: ServerResponse,
  status: number,
  body: string | undefined,
  headers: Record<string, string | number | boolean> = {},
) {
  res.writeHead(status, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
  res.end(body);
}

/** Starts the local API on loopback (default 127.0.0.1) and a free port unless one is given. */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const compiled = (options.routes ?? HTTP_ROUTES).map(compile);
  prioritizeLightRequests(options.prioritize ?? true);
  const load = options.loadHandler ?? defaultLoader;
  const handlers = new Map<HttpRoute, Promise<LambdaHandler>>();
  const host = options.host ?? '127.0.0.1';
  const authorize = options.auth ? jwtAuthorizer(options.auth) : undefined;
  const checkHost = hostGuard(options.allowedHosts);
  const handlerOf = (route: HttpRoute): Promise<LambdaHandler> => {
    let handler = handlers.get(route);
    if (!handler) handlers.set(route, (handler = load(route)));
    return handler;
  };

  /** One request: the guards, then a local-only route, the dashboard, or an API route's handler. */
  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const misdirected = checkHost(req.headers.host, (server.address() as AddressInfo).port);
    if (misdirected) return refuse(res, misdirected);
    if (options.cors && applyCors(options.cors, req, res)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (await options.rawHandler?.(req, url, res)) return;
    const local = options.localRoutes?.find((r) => r.method === method && r.path === url.pathname);
    if (local) return serveLocalRoute(req, res, local, authorize);
    const candidates = compiled.filter((c) => c.pattern.test(url.pathname));
    // The dashboard has every GET that is not an API path (/v2 or another mounted API, e.g. the Lamassu edge).
    const api = url.pathname.startsWith('/v2/') || candidates.length > 0;
    if (options.dashboard && (method === 'GET' || method === 'HEAD') && !api)
      return serveDashboard(res, url.pathname, options.dashboard);
    const match = candidates.find((c) => c.route.method === method);
    if (!match) return sendJson(res, 404, { err: `no route for ${method} ${url.pathname}`, code: 'NOT_FOUND' });
    const authorized = await authorizeRoute(authorize, req, match.route);
    if ('refusal' in authorized) return refuse(res, authorized.refusal);
    const { event, context } = invocationOf(
      req,
      url,
      match,
      await readBody(req),
      authorized.authorizer,
      host,
      options.functionTimeoutMs,
    );
    await options.beforeRoute?.(match.route);
    const result = await (await handlerOf(match.route))(event, context);
    send(res, result.statusCode ?? 200, result.body, result.headers ?? {});
  }

  const server: Server = createServer((req, res) => {
    dispatch(req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLarge) {
        const answer = tooLargeAnswer(error.size);
        return send(res, answer.status, answer.body, { 'content-type': 'application/json', connection: 'close' });
      }
      // A client that went away mid-upload: no one to answer, nothing broken.
      if (isClientAbort(error)) return void res.destroy();
      console.error('local server: handler crashed', error);
      if (!res.headersSent) sendJson(res, 500, { err: 'internal server error', code: 'INTERNAL_ERROR' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const sendJson = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json' });

const refuse = (res: ServerResponse, refusal: Refusal) => sendJson(res, refusal.status, refusal.body);

type Authorize = ReturnType<typeof jwtAuthorizer>;

/**
 * The route's JWT authorizer, as deployed: the token's claims for the function, or the refusal. A route without
 * scope (Lamassu's health check) has no authorizer, and no route has one when auth is off.
 */
async function authorizeRoute(
  authorize: Authorize | undefined,
  req: IncomingMessage,
  route: HttpRoute,
): Promise<{ authorizer: JwtAuthorizer | undefined } | { refusal: Refusal }> {
  if (!authorize || route.scope === null) return { authorizer: undefined };
  const verdict = await authorize(req.headers.authorization, route.scope);
  if (!verdict.ok) return { refusal: authRefusal(verdict) };
  return {
    authorizer: {
      principalId: String(verdict.claims.sub ?? ''),
      integrationLatency: 0,
      jwt: { claims: verdict.claims as Record<string, string>, scopes: verdict.scopes },
    },
  };
}

/** A local-only endpoint: JSON in, JSON out, behind its scope when auth is on. */
async function serveLocalRoute(
  req: IncomingMessage,
  res: ServerResponse,
  local: LocalRoute,
  authorize: Authorize | undefined,
): Promise<void> {
  const verdict = await authorize?.(req.headers.authorization, local.scope);
  if (verdict && !verdict.ok) return refuse(res, authRefusal(verdict));
  const unsupported = mediaTypeRefusal(req);
  if (unsupported) return refuse(res, unsupported);
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = raw ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    return sendJson(res, 400, { err: 'body is not JSON', code: 'MALFORMED_REQUEST' });
  }
  const result = await local.handle(body);
  sendJson(res, result.status, result.body);
}

/** The dashboard's files (a fixed set: no path from the request reaches the file system) and its config. */
async function serveDashboard(
  res: ServerResponse,
  pathname: string,
  dashboard: NonNullable<LocalServerOptions['dashboard']>,
) {
  // With OIDC sign-in the page also calls the issuer (discovery, token endpoint).
  const issuer = dashboard.config.auth === 'oidc' ? [new URL(dashboard.config.authority).origin] : [];
  const headers = {
    'content-security-policy': dashboardCsp(issuer),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  if (pathname === '/dashboard-config.json') {
    send(res, 200, JSON.stringify(dashboard.config), { ...headers, 'content-type': 'application/json' });
    return;
  }
  const file = pathname === '/' ? 'index.html' : pathname.slice(1);
  const type = STATIC_TYPES[file.slice(file.lastIndexOf('.'))];
  if (!type || !/^[a-z-]+\.(html|js|css)$/.test(file)) {
    send(res, 404, JSON.stringify({ err: `no such file ${pathname}`, code: 'NOT_FOUND' }), {
      'content-type': 'application/json',
    });
    return;
  }
  try {
    send(res, 200, await readFile(`${dashboard.dir}/${file}`, 'utf8'), { ...headers, 'content-type': type });
  } catch {
    const hint = file === 'index.html' ? ' (run `npm run build:web`)' : '';
    send(res, 404, JSON.stringify({ err: `dashboard file ${file} not built${hint}`, code: 'NOT_FOUND' }), {
      'content-type': 'application/json',
    });
  }
}
