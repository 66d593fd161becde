/** One table maps error classes to HTTP status codes. Messages reach clients only below 500. */
import {
  ContentionError,
  DeviceAlreadyExistsError,
  DeviceNotFoundError,
  DomainError,
  InvalidBookmarkError,
  InvalidStateError,
  PreconditionFailedError,
  SlotNotFoundError,
  UnprocessableError,
  QueryTooBroadError,
  IndexNotReadyError,
  JobFinishedError,
  JobNotFoundError,
  ValidationError,
  IotCaExistsError,
  IotRejectedError,
  type FieldProblem,
  GroupAlreadyExistsError,
  GroupCycleError,
  GroupDepthExceededError,
  GroupHasChildrenError,
  GroupNameTakenError,
  GroupNotFoundError,
  ParentGroupNotFoundError,
  ImportNotFoundError,
} from '../domain/errors';

/*
 * Transport errors: the request itself (its body, its media type) is unusable, before any use case runs.
 * They belong to the HTTP edge, not the domain, but share the domain errors' shape (a stable `code`).
 */

/** A body that is not JSON, or a request that cannot be understood at all. */
export class MalformedRequestError extends DomainError {
  readonly code = 'MALFORMED_REQUEST';
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

type ErrorClass = abstract new (...args: never[]) => DomainError;

const ERROR_STATUS: ReadonlyArray<readonly [ErrorClass, number]> = [
  [ValidationError, 400],
  [IotRejectedError, 400],
  [IotCaExistsError, 409],
  [MalformedRequestError, 400],
  [InvalidBookmarkError, 400],
  [DeviceNotFoundError, 404],
  [SlotNotFoundError, 404],
  [DeviceAlreadyExistsError, 409],
  [InvalidStateError, 409],
  [PreconditionFailedError, 412],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [UnprocessableError, 422],
  [QueryTooBroadError, 422],
  [IndexNotReadyError, 409],
  [JobNotFoundError, 404],
  [JobFinishedError, 409],
  [ContentionError, 503],
  [GroupNotFoundError, 404],
  [ImportNotFoundError, 404],
  [ParentGroupNotFoundError, 404],
  [GroupAlreadyExistsError, 409],
  [GroupNameTakenError, 409],
  [GroupHasChildrenError, 409],
  // Subclasses of ValidationError (400, with details naming parent_id); listed for the record.
  [GroupCycleError, 400],
  [GroupDepthExceededError, 400],
];

export interface ErrorBody {
  err: string;
  code: string;
  details?: FieldProblem[];
}

/** Status and body for any thrown value; unknown errors become a 500 without internals. */
export function errorResponse(error: unknown): { statusCode: number; body: ErrorBody } {
  const statusCode = ERROR_STATUS.find(([cls]) => error instanceof cls)?.[1] ?? 500;
  if (statusCode === 503) return { statusCode, body: { err: 'service busy, try again', code: 'SERVICE_BUSY' } };
  if (statusCode >= 500 || !(error instanceof DomainError))
    return { statusCode: 500, body: { err: 'internal server error', code: 'INTERNAL_ERROR' } };
  const body: ErrorBody = { err: error.message, code: error.code };
  if (error instanceof ValidationError) body.details = error.details;
  return { statusCode, body };
}
