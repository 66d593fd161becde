/** End-to-end support: the local service on an in-memory engine and a small JSON HTTP client. */
import { randomUUID } from 'node:crypto';
import { startLocalService, type LocalService } from '../../local/main';

export interface Reply {
  status: number;
  headers: Headers;
  // `any`: response bodies are asserted field by field.
  body: any;
}

/** The local service with a fresh in-memory table; `env` adds or overrides settings. */
export function startTestService(env: Record<string, string> = {}): Promise<LocalService> {
  return startLocalService({
    env: { IN_MEMORY: 'true', PORT: '0', TABLE_NAME: `devices-${randomUUID()}`, SWEEP_INTERVAL_SECONDS: '0', ...env },
    quiet: true,
  });
}

/** Sends JSON (a string body is sent as is) and parses the JSON reply. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
