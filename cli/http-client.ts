/**
 * The CLI's HTTP client: node:http(s) with keep-alive sockets (one per request in flight), JSON in
 * and out, authentication headers per request, and the retry policy of retry.ts.
 */
import { Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { ApiUnreachableError } from './errors';
import type { RetryPolicy } from '../functions/domain/backoff';
import { DEFAULT_RETRY, isRetryableNetworkError, isRetryableStatus, retryDelayMs } from './retry';
import type { Authenticator } from './sigv4';

export interface ApiReply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** Attempts made (1 when the first one was answered). */
  attempts: number;
}

export interface SendOptions {
  /** Serialised as JSON unless a string. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  api: URL;
  authenticate?: Authenticator;
  /** Requests in flight at most: the size of the socket pool. */
  concurrency: number;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
  /** Called before each retry (progress counts them). */
  onRetry?: (reason: string) => void;
}

export interface ApiClient {
  send(method: string, path: string, options?: SendOptions): Promise<ApiReply>;
  close(): void;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A client for the API at `api` (its path, e.g. a stage, prefixes every request path). */
export function apiClient({
  api,
  authenticate,
  concurrency,
  retry = DEFAULT_RETRY,
  sleep = sleepFor,
  random = Math.random,
  onRetry,
}: ApiClientOptions): ApiClient {
  const secure = api.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency })
    : new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const send = secure ? httpsRequest : httpRequest;
  const prefix = api.pathname.replace(/\/+$/, '');

  const once = async (method: string, url: URL, body: string | undefined, headers: Record<string, string>) => {
    const all = { ...headers, ...(authenticate ? await authenticate({ method, url, headers, body }) : {}) };
    return new Promise<Omit<ApiReply, 'attempts'>>((resolve, reject) => {
      const req = send(url, { method, headers: all, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: parseBody(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  };

  return {
    async send(method, path, options = {}) {
      const url = new URL(`${api.origin}${prefix}${path}`);
      const body =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body);
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (body !== undefined) {
        headers['content-type'] = options.contentType ?? 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      for (let attempt = 1; ; attempt++) {
        try {
          const reply = await once(method, url, body, headers);
          if (!isRetryableStatus(reply.status)) return { ...reply, attempts: attempt };
          const header = reply.headers['retry-after'];
          const delay = retryDelayMs(retry, attempt, Array.isArray(header) ? header[0] : header, Date.now(), random());
          if (delay === undefined) return { ...reply, attempts: attempt };
          onRetry?.(`HTTP ${reply.status}`);
          await sleep(delay);
          continue;
        } catch (error) {
          if (!isRetryableNetworkError(error)) throw error;
          const delay = retryDelayMs(retry, attempt, undefined, Date.now(), random());
          if (delay === undefined) throw new ApiUnreachableError(api.origin, { cause: error });
          onRetry?.(String((error as { code?: string }).code));
          await sleep(delay);
        }
      }
    },
    close() {
      agent.destroy();
    },
  };
}
