/**
 * What API Gateway does in front of a route's function, for the local service: matching a request to its
 * route, and the HTTP API (payload 2.0) event and Lambda context the route's real handler gets.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { HttpRoute } from '../functions/http/routes';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** What a JWT authorizer hands the function: the token's claims and scopes. */
export type JwtAuthorizer = APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'];

/** API Gateway's own payload limit; the handlers enforce the contract's smaller one. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

export interface CompiledRoute {
  route: HttpRoute;
  pattern: RegExp;
  params: string[];
}

export function compile(route: HttpRoute): CompiledRoute {
  const params: string[] = [];
  // Escape the literal parts, then turn each `{name}` into a capture of one path segment.
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), params };
}

/** The request body as API Gateway passes it on (undefined when empty). */
export function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
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

/** The payload 2.0 event and the Lambda context of one request to a matched route. */
export function invocationOf(
  req: IncomingMessage,
  url: URL,
  match: CompiledRoute,
  body: Buffer | undefined,
  authorizer: JwtAuthorizer | undefined,
  host: string,
): { event: APIGatewayProxyEventV2; context: Context } {
  const groups = match.pattern.exec(url.pathname)!.slice(1);
  const pathParameters = Object.fromEntries(match.params.map((name, i) => [name, safeDecode(groups[i]!)]));
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
        method: (req.method ?? 'GET').toUpperCase(),
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
  return { event: event as APIGatewayProxyEventV2, context: lambdaContext(requestId, match.route.handler) };
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

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
