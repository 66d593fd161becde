/**
 * Request bodies, validated against the request schemas (kept apart from params.ts: routes without a body load no
 * schemas).
 */
import type { z } from 'zod';
import { ValidationError } from '../domain';
import { problemsOf, revokeSchema } from '../domain/schemas';
import { REVOCATION_REASONS, revocationReasonOf, type RevocationReason } from '../domain/slots';
import type { HttpRequest } from './http';

/** Validates a parsed JSON body against a schema: 400 with details naming each offending field. */
export function bodyOf<T extends z.ZodType>(request: HttpRequest, schema: T, what = 'request body'): z.infer<T> {
  const parsed = schema.safeParse(request.body);
  if (!parsed.success) throw new ValidationError(`invalid ${what}`, problemsOf(parsed.error));
  return parsed.data;
}

/** `{"reason": "<RFC 5280 reason>"}` of a revocation request. */
export function reasonOf(request: HttpRequest): RevocationReason {
  const { reason } = bodyOf(request, revokeSchema);
  const known = revocationReasonOf(reason);
  if (!known)
    throw new ValidationError('unknown revocation reason', [
      { field: 'reason', problem: `must be one of ${REVOCATION_REASONS.join(', ')}` },
    ]);
  return known;
}
