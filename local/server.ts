/**
 * The local API: turns each HTTP request into an API Gateway HTTP API (payload 2.0) event and invokes
 * the real Lambda handler of its route, exactly as API Gateway would.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { jwtAuthorizer, type LocalAuthConfig } from './auth';
import { applyCors, type CorsPolicy } from './cors';
import { authRefusal, hostGuard, isClientAbort, mediaTypeRefusal, type Refusal } from './guards';
import { HTTP_ROUTES, type HttpRoute, type Scope } from '../functions/handlers/http/routes';
import type { DashboardRuntimeConfig } from '../web/runtime-config';
import { dashboardCsp } from '../web/security-headers';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit; the handlers enforce the contract's smaller one. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

interface CompiledRoute {
  route: HttpRoute;
  pattern: RegExp;
  params: string[];
}

function compile(route: HttpRoute): CompiledRoute {
  const params: string[] = [];
  // Escape the literal parts, then turn each `{name}` into a capture of one path segment.
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), params };
}

export interface LocalServerOptions {
  port?: number;
  host?: string;
  routes?: readonly HttpRoute[];
  /** Resolves a route's handler module; defaults to importing functions/handlers/http/<handler>. */
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
  /** The built web dashboard, served at `/` (GET outside /v2): its folder and its runtime settings. */
  dashboard?: { dir: string; config: DashboardRuntimeConfig };
  /** Browser origins allowed to call the API (local/cors.ts); no CORS when absent. */
  cors?: CorsPolicy;
  /** Awaited before a route's handler runs (the local service: statistics wait for the counter feed). */
  beforeRoute?: (route: HttpRoute) => Promise<void> | undefined;
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
  const module = (await import(`../functions/handlers/http/${route.handler}`)) as { handler: LambdaHandler };
  return module.handler;
};

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(
        size > GATEWAY_MAX_BODY
          ? Buffer.alloc(GATEWAY_MAX_BODY + 1)
          : chunks.length
            ? Buffer.concat(chunks)
            : undefined,
      ),
    );
    req.on('error', reject);
  });
}

function lambdaContext(requestId: string, name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

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
  const load = options.loadHandler ?? defaultLoader;
  const handlers = new Map<HttpRoute, Promise<LambdaHandler>>();
  const host = options.host ?? '127.0.0.1';
  const authorize = options.auth ? jwtAuthorizer(options.auth) : undefined;
  const checkHost = hostGuard(options.allowedHosts);
  const refuse = (res: ServerResponse, refusal: Refusal) =>
    send(res, refusal.status, JSON.stringify(refusal.body), { 'content-type': 'application/json' });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const misdirected = checkHost(req.headers.host, (server.address() as AddressInfo).port);
      if (misdirected) return refuse(res, misdirected);
      if (options.cors && applyCors(options.cors, req, res)) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = (req.method ?? 'GET').toUpperCase();
      const local = options.localRoutes?.find((r) => r.method === method && r.path === url.pathname);
      if (local) {
        const verdict = await authorize?.(req.headers.authorization, local.scope);
        if (verdict && !verdict.ok) return refuse(res, authRefusal(verdict));
        const unsupported = mediaTypeRefusal(req);
        if (unsupported) return refuse(res, unsupported);
        const raw = await readBody(req);
        let body: unknown;
        try {
          body = raw ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          send(res, 400, JSON.stringify({ err: 'body is not JSON', code: 'MALFORMED_REQUEST' }), {
            'content-type': 'application/json',
          });
          return;
        }
        const result = await local.handle(body);
        send(res, result.status, JSON.stringify(result.body), { 'content-type': 'application/json' });
        return;
      }
      const candidates = compiled.filter((c) => c.pattern.test(url.pathname));
      // The dashboard has every GET that is not an API path (/v2 or another mounted API, e.g. the Lamassu edge).
      if (
        options.dashboard &&
        (method === 'GET' || method === 'HEAD') &&
        !url.pathname.startsWith('/v2/') &&
        candidates.length === 0
      ) {
        await serveDashboard(res, url.pathname, options.dashboard);
        return;
      }
      const match = candidates.find((c) => c.route.method === method);
      if (!match) {
        send(res, 404, JSON.stringify({ err: `no route for ${method} ${url.pathname}`, code: 'NOT_FOUND' }), {
          'content-type': 'application/json',
        });
        return;
      }
      let authorizer: APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'] | undefined;
      // A route without scope (Lamassu's health check) has no authorizer, as deployed.
      if (authorize && match.route.scope !== null) {
        const verdict = await authorize(req.headers.authorization, match.route.scope);
        if (!verdict.ok) return refuse(res, authRefusal(verdict));
        authorizer = {
          principalId: String(verdict.claims.sub ?? ''),
          integrationLatency: 0,
          jwt: { claims: verdict.claims as Record<string, string>, scopes: verdict.scopes },
        };
      }
      const groups = match.pattern.exec(url.pathname)!.slice(1);
      const pathParameters = Object.fromEntries(match.params.map((name, i) => [name, safeDecode(groups[i]!)]));
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      const queryStringParameters: Record<string, string> = {};
      for (const key of new Set(url.searchParams.keys()))
        queryStringParameters[key] = url.searchParams.getAll(key).join(',');
      const requestId = randomUUID();
      const routeKey = `${match.route.method} ${match.route.path}`;
      const now = new Date();
      const event: APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer = {
        version: '2.0',
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ''),
        headers,
        queryStringParameters: Object.keys(queryStringParameters).length ? queryStringParameters : undefined,
        pathParameters: match.params.length ? pathParameters : undefined,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: headers.host ?? host,
          domainPrefix: 'local',
          http: {
            method,
            path: url.pathname,
            protocol: `HTTP/${req.httpVersion}`,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            userAgent: headers['user-agent'] ?? '',
          },
          requestId,
          routeKey,
          stage: '$default',
          ...(authorizer ? { authorizer } : {}),
          time: now.toISOString(),
          timeEpoch: now.getTime(),
        },
        body: body?.toString('base64'),
        isBase64Encoded: body !== undefined,
      };
      let handler = handlers.get(match.route);
      if (!handler) handlers.set(match.route, (handler = load(match.route)));
      await options.beforeRoute?.(match.route);
      const result = await (await handler)(
        event as APIGatewayProxyEventV2,
        lambdaContext(requestId, match.route.handler),
      );
      send(res, result.statusCode ?? 200, result.body, result.headers ?? {});
    })().catch((error: unknown) => {
      // A client that went away mid-upload: no one to answer, nothing broken.
      if (isClientAbort(error)) return void res.destroy();
      console.error('local server: handler crashed', error);
      if (!res.headersSent)
        send(res, 500, JSON.stringify({ err: 'internal server error', code: 'INTERNAL_ERROR' }), {
          'content-type': 'application/json',
        });
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

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
