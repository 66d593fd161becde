/**
 * The middy chain every HTTP handler shares: size and media-type checks, JSON parsing, the error table,
 * and JSON responses with ETags. Handlers only parse → call a use case → return a result.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ContentionError, ValidationError } from '../domain/errors';
import { errorResponse, MalformedRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './http-errors';
import { loadBookmarkSecret } from '../runtime/bookmark-secret';
import { flushMetrics, logger } from '../runtime/observability';
import { tracing } from '../runtime/tracing';
import { requestStarted } from '../runtime/turns';
import { requestWeight } from './request-weight';
import { pageJsonText } from '../domain/json-text';
import { MAX_BODY_DEPTH, scanDepth } from './json-depth';

export const MAX_BODY_BYTES = 256 * 1024;

export interface HttpRequest {
  method: string;
  path: string;
  pathParameters: Record<string, string>;
  /** Repeated parameters are kept (API Gateway joins them with commas in queryStringParameters). */
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when there is none. */
  body: unknown;
  /** Media type of the body without parameters, lower case. */
  mediaType?: string;
  requestId: string;
}

export interface HttpResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as `ETag: "<version>"`. */
  version?: number;
  /** The body's JSON text when already built (a list page joined from its items' texts), sent as is. */
  bodyText?: string;
}

export interface HttpHandlerOptions {
  /** Media types accepted for the body; a body is then required. */
  accepts?: string[];
  /** Of those, the media types whose body is handed over as text, not parsed as JSON (an import's CSV). */
  textTypes?: string[];
  /** Logs unexpected errors; defaults to the structured logger. */
  log?: (message: string, error: unknown) => void;
}

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

function lowerCaseHeaders(headers: APIGatewayProxyEventV2['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

/** Bytes a base64 text decodes to (padding and whitespace aside), without decoding it. */
const base64Bytes = (b64: string) => Buffer.byteLength(b64, 'base64');

/** Turns the API Gateway event into an HttpRequest, enforcing the body rules (docs/api.md, Wire conventions). */
export function toRequest(
  event: APIGatewayProxyEventV2,
  accepts: string[] | undefined,
  query = new URLSearchParams(event.rawQueryString ?? ''),
  textTypes: string[] = [],
): HttpRequest {
  const headers = lowerCaseHeaders(event.headers);
  // A text body (API Gateway passes JSON as is) is measured and parsed as the string it is; a
  // base64 one is measured before it is decoded.
  const encoded = event.body ?? undefined;
  const bytes = encoded === undefined ? 0 : event.isBase64Encoded ? base64Bytes(encoded) : Buffer.byteLength(encoded);
  if (bytes > MAX_BODY_BYTES) throw new PayloadTooLargeError(`body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES}`);
  const text =
    encoded === undefined || !event.isBase64Encoded ? encoded : Buffer.from(encoded, 'base64').toString('utf8');
  const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  let body: unknown;
  if (accepts) {
    if (!mediaType || !accepts.includes(mediaType))
      throw new UnsupportedMediaTypeError(
        `content type must be ${accepts.join(' or ')}${mediaType ? `, not ${mediaType}` : ''}`,
      );
    if (text === undefined || bytes === 0)
      throw new ValidationError('a request body is required', [{ field: '(body)', problem: 'missing' }]);
    if (textTypes.includes(mediaType)) body = text;
    else body = parseJsonBody(text);
  }
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    // API Gateway hands path parameters over percent-decoded.
    pathParameters: Object.fromEntries(Object.entries(event.pathParameters ?? {}).map(([k, v]) => [k, v ?? ''])),
    query,
    headers,
    body,
    mediaType,
    requestId: event.requestContext.requestId,
  };
}

/** A JSON body: refused by a linear scan before parsing when it nests too deep (json-depth.ts), else parsed. */
function parseJsonBody(text: string): unknown {
  const depth = scanDepth(text);
  if (depth.tooDeep)
    throw new ValidationError('request body nests too deep', [
      { field: depth.field, problem: `nests deeper than ${MAX_BODY_DEPTH} levels (the limit of any body)` },
    ]);
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedRequestError('request body is not valid JSON');
  }
}

function toResponse(result: HttpResult): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...result.headers };
  if (result.version !== undefined) headers.etag = `"${result.version}"`;
  if (result.body === undefined) return { statusCode: result.statusCode, headers };
  return {
    statusCode: result.statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: result.bodyText ?? JSON.stringify(result.body),
  };
}

/** Builds a Lambda handler for one route. */
export function httpHandler(options: HttpHandlerOptions, fn: (request: HttpRequest) => Promise<HttpResult>): Handler {
  const log = options.log ?? ((message, error) => logger.error(message, error as Error));
  const chain = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  // X-Ray only where tracing records (tracing.ts); errors become responses below, so a trace records them as answered.
  const traced = tracing();
  if (traced) chain.use(traced.handlerMiddleware());
  return chain
    .use({
      before: async (request) => {
        await loadBookmarkSecret();
        // Correlation ids on every log line of this invocation.
        const { requestId, routeKey } = request.event.requestContext;
        logger.appendKeys({
          request_id: requestId,
          route: routeKey,
          ...(request.event.pathParameters?.id ? { resource_id: request.event.pathParameters.id } : {}),
        });
      },
      after: async () => flushMetrics(),
      onError: async (request) => {
        const { statusCode, body } = errorResponse(request.error);
        if (statusCode >= 500) log('request failed', request.error);
        else logger.info('request rejected', { status: statusCode, code: body.code });
        request.response = toResponse({
          statusCode,
          body,
          headers:
            statusCode === 503
              ? {
                  'retry-after': String(request.error instanceof ContentionError ? request.error.retryAfterSeconds : 1),
                }
              : undefined,
        });
        flushMetrics();
      },
    })
    .handler(async (event) => {
      // Counted in flight for cooperative turns (turns.ts): long work rests while others wait, and
      // heavy work (request-weight.ts) waits for light requests where priorities are on.
      const query = new URLSearchParams(event.rawQueryString ?? '');
      const turn = requestStarted(requestWeight({ bodyLength: event.body?.length ?? 0, query }));
      try {
        await turn.admitted();
        return await turn.run(async () =>
          toResponse(await fn(toRequest(event, options.accepts, query, options.textTypes))),
        );
      } finally {
        turn.end();
      }
    });
}

/** Parses `If-Match: "<version>"` (quotes and W/ optional). Undefined when absent or `*`. */
export function ifMatchOf(request: HttpRequest): number | undefined {
  const raw = request.headers['if-match']?.trim();
  if (raw === undefined || raw === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(raw);
  if (!match)
    throw new ValidationError('If-Match must be an ETag like "3"', [
      { field: 'If-Match', problem: `'${raw}' is not a version` },
    ]);
  return Number(match[1]);
}

export const ok = (body: unknown, version?: number): HttpResult => ({ statusCode: 200, body, version });

/** 200 with a list page, its text joined from the items' JSON texts (domain/json-text.ts), not serialized again. */
export const okPage = (page: { list: readonly unknown[] }): HttpResult => ({
  statusCode: 200,
  body: page,
  bodyText: pageJsonText(page),
});
