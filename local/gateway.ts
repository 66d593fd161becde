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
import { MAX_BODY_BYTES } from '../functions/http/http';
import { errorResponse, PayloadTooLargeError } from '../functions/http/http-errors';
import type { HttpRoute } from '../functions/http/routes';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** What a JWT authorizer hands the function: the token's claims and scopes. */
export type JwtAuthorizer = APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'];

/**
 * The largest body read: the contract's limit, which every handler enforces too. Deployed, API
 * Gateway buffers up to 10 MB before the handler refuses; here a longer body is refused as soon as
 * its Content-Length or its bytes read pass the limit, and the rest is discarded unread.
 */
const LOCAL_MAX_BODY = MAX_BODY_BYTES;

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

/** Thrown by readBody for a body over its limit: answered 413 as a handler would (`tooLargeAnswer`). */
export class BodyTooLarge extends Error {
  constructor(readonly size: number) {
    super(`body too large: ${size}`);
  }
}

/**
 * The request body as API Gateway passes it on (undefined when empty), or a BodyTooLarge as soon as
 * its declared or streamed size passes `limit`: at most `limit` bytes plus one chunk are ever held.
 * Node discards the unread rest once the answer is sent.
 */
export function readBody(req: IncomingMessage, limit = LOCAL_MAX_BODY): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new BodyTooLarge(declared));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        return reject(new BodyTooLarge(size));
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length ? Buffer.concat(chunks) : undefined);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** The 413 a handler answers for a body over the contract's limit (functions/http/http.ts). */
export function tooLargeAnswer(size: number): { status: number; body: string } {
  const { statusCode, body } = errorResponse(
    new PayloadTooLargeError(`body is ${size} bytes or more; the limit is ${MAX_BODY_BYTES}`),
  );
  return { status: statusCode, body: JSON.stringify(body) };
}

/**
 * The body as API Gateway hands it to the function: text media types (`text/*`, JSON, XML,
 * JavaScript) as the string they are, anything else (a merge patch included) base64-encoded.
 */
export function eventBody(
  body: Buffer | undefined,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body === undefined) return { isBase64Encoded: false };
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const text =
    type.startsWith('text/') || ['application/json', 'application/xml', 'application/javascript'].includes(type);
  return text
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

/** The payload 2.0 event and the Lambda context of one request to a matched route. */
export function invocationOf(
  req: IncomingMessage,
  url: URL,
  match: CompiledRoute,
  body: Buffer | undefined,
  authorizer: JwtAuthorizer | undefined,
  host: string,
  timeoutMs = 30_000,
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
    ...eventBody(body, headers['content-type']),
  };
  return { event: event as APIGatewayProxyEventV2, context: lambdaContext(requestId, match.route.handler, timeoutMs) };
}

function lambdaContext(requestId: string, name: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
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
