/**
 * X-Ray traces (Powertools Tracer), loaded only where they record: in Lambda, where the stack's `tracing`
 * setting (off by default: it costs every cold start, docs/cold-starts.md) set POWERTOOLS_TRACE_ENABLED=true.
 * The Tracer lives in tracing-xray.ts, which the stack bundles as a second file of each function
 * (`tracing-xray.js`), so a bundle without it stays small and a cold start without tracing never
 * loads the X-Ray SDK. Locally and in tests it resolves to the TypeScript source.
 */
import path from 'node:path';
import type { MiddlewareObj } from '@middy/core';

/** File name, without extension, of the Tracer module beside this one (or beside the bundle). */
export const TRACING_MODULE = 'tracing-xray';

export interface TracingHooks {
  /** The middy middleware that records the invocation as a subsegment. */
  handlerMiddleware(): MiddlewareObj;
  /** Records the client's AWS calls as subsegments. */
  captureAWSv3Client<T>(client: T): T;
}

/**
 * Whether the Tracer records here: switched on by the stack (POWERTOOLS_TRACE_ENABLED=true; without it the
 * side file is not even bundled), and where Powertools' own rule lets it (Lambda, not SAM or Amplify mocks).
 */
export function tracingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  if ((env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'true') return false;
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return executionEnv !== '' && executionEnv !== 'AWS_Lambda_amplify-mock' && (env.AWS_SAM_LOCAL ?? '') === '';
}

let loaded: TracingHooks | null | undefined;

/** The Tracer's hooks when tracing records, else undefined (nothing loaded). */
export function tracing(): TracingHooks | undefined {
  if (loaded === undefined) {
    // A computed path: the bundler leaves it to run time instead of inlining the X-Ray SDK.
    const file = path.join(__dirname, TRACING_MODULE);
    loaded = tracingEnabled() ? (require(file) as { hooks: TracingHooks }).hooks : null;
  }
  return loaded ?? undefined;
}

/** Test hook: decide again on next use. */
export function resetTracing(): void {
  loaded = undefined;
}
