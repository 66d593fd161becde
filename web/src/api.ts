/**
 * The dashboard's only way to the service: the public API under /v2 on the page's own origin, with
 * the signed-in user's bearer token. Every failure becomes an ApiError carrying the contract's
 * `{err, code, details}` so pages can show what the API said.
 */
export interface FieldProblem {
  field: string;
  problem: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** One line for the user: what the API said, with the HTTP status and the offending fields. */
  describe(): string {
    const fields = this.details.map((d) => `${d.field}: ${d.problem}`).join('; ');
    return `${this.message} (HTTP ${this.status}${this.code ? ` ${this.code}` : ''})${fields ? ` — ${fields}` : ''}`;
  }
}

export interface Reply<T> {
  data: T;
  /** The resource version from `ETag: "<version>"`, for If-Match. */
  etag?: string;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  ifMatch?: string;
  query?: URLSearchParams | Record<string, string>;
}

let tokenSource: () => string | undefined = () => undefined;
let unauthorized: (error: ApiError) => void = () => undefined;

/** Set by the sign-in module: where tokens come from and what a 401 does. */
export function configureApi(options: {
  token: () => string | undefined;
  onUnauthorized: (error: ApiError) => void;
}): void {
  tokenSource = options.token;
  unauthorized = options.onUnauthorized;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = tokenSource();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    body = JSON.stringify(options.body);
  }
  const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : '';
  let res: Response;
  try {
    res = await fetch(`/v2${path}${query}`, { method, headers, body });
  } catch (cause) {
    throw new ApiError(0, 'NETWORK_ERROR', `the API could not be reached (${(cause as Error).message})`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const shape = (parsed ?? {}) as { err?: string; message?: string; code?: string; details?: FieldProblem[] };
    const error = new ApiError(
      res.status,
      shape.code ?? '',
      shape.err ?? shape.message ?? (res.statusText || 'request failed'),
      shape.details,
    );
    if (res.status === 401) unauthorized(error);
    throw error;
  }
  return { data: parsed as T, etag: res.headers.get('etag') ?? undefined };
}

export const get = <T>(path: string, query?: RequestOptions['query']) => api<T>('GET', path, { query });

/** A path segment: ids may hold `:` and `.`, never `/`, but encode anyway. */
export const seg = (value: string) => encodeURIComponent(value);
