/**
 * Domain errors. Each carries a stable machine `code`; the HTTP layer maps classes to status codes
 * in one table (functions/http/http-errors.ts), never by string-matching names.
 */
export interface FieldProblem {
  field: string;
  problem: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that does not satisfy the schema; `details` names each offending field. */
export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
  constructor(
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }
}

export class InvalidBookmarkError extends DomainError {
  readonly code = 'INVALID_BOOKMARK';
  constructor(options?: { cause?: unknown }) {
    super('bookmark is malformed or does not belong to this query', options);
  }
}

export class DeviceNotFoundError extends DomainError {
  readonly code = 'DEVICE_NOT_FOUND';
  constructor(readonly deviceId: string) {
    super(`device ${deviceId} not found`);
  }
}

export class DeviceAlreadyExistsError extends DomainError {
  readonly code = 'DEVICE_ALREADY_EXISTS';
  constructor(
    readonly deviceId: string,
    options?: { cause?: unknown },
  ) {
    super(`device ${deviceId} already exists`, options);
  }
}

/** The operation is not allowed in the resource's current state (e.g. a decommissioned device). */
export class InvalidStateError extends DomainError {
  readonly code = 'INVALID_STATE';
}

/** `If-Match` named a version that is not the stored one. */
export class PreconditionFailedError extends DomainError {
  readonly code = 'VERSION_MISMATCH';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`If-Match "${expected}" does not match the current version "${actual}"`);
  }
}

/** Optimistic-concurrency loss inside a write: the stored version moved under us. Retried by use cases. */
export class VersionConflictError extends DomainError {
  readonly code: string = 'VERSION_CONFLICT';
  constructor(
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`version of ${id} changed concurrently`, options);
  }
}

/** The DMS policy a device change was computed with changed before it committed: recompute (not the client's 412). */
export class PolicyMovedError extends VersionConflictError {
  override readonly code = 'POLICY_MOVED';
}

/** Well-formed but unacceptable input (e.g. an already-expired certificate). */
export class UnprocessableError extends DomainError {
  readonly code = 'UNPROCESSABLE';
}

/**
 * A list or statistics request that no index or counter serves and that would read more than the read
 * budget (docs/api.md, Limits and edges): 422 naming what to index or narrow.
 */
export class QueryTooBroadError extends DomainError {
  readonly code = 'QUERY_TOO_BROAD';
  constructor(
    message: string,
    readonly filter?: string,
  ) {
    super(message);
  }

  /** Statistics filtered by `filter`, which no index serves, over `budget` devices (or past the time budget). */
  static statistics(filter: string, budget: number, spent: 'items' | 'time' = 'items'): QueryTooBroadError {
    const over =
      spent === 'time'
        ? "ran past the request's time budget"
        : `read more than ${budget} devices (or their byte budget)`;
    return new QueryTooBroadError(
      `statistics filtered this way ${over}; add an indexed filter, or index '${filter}' (INDEXED_METADATA_KEYS)`,
      filter,
    );
  }
}

/** An indexed key whose back-fill has not finished: its counters are not complete yet. */
export class IndexNotReadyError extends DomainError {
  readonly code = 'INDEX_NOT_READY';
  constructor(
    readonly key: string,
    message = `metadata key '${key}' is being indexed (back-fill in progress); try again later`,
  ) {
    super(message);
  }

  /** The certificate inventory of devices bound before it existed is being back-filled. */
  static inventory(): IndexNotReadyError {
    return new IndexNotReadyError(
      '@inventory',
      'the certificate inventory is being back-filled (devices bound before it existed); try again later',
    );
  }
}

/** A hard delete of a device that is not DECOMMISSIONED (decommission it first). */
export class DeviceNotDecommissionedError extends UnprocessableError {
  constructor(
    readonly id: string,
    readonly status: string,
  ) {
    super(`device ${id} is ${status}: only a DECOMMISSIONED device can be deleted`);
  }
}

/** Transient contention that outlasted the retries; the client may try again after `retryAfterSeconds`. */
export class ContentionError extends DomainError {
  readonly code = 'CONTENTION';
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

// Device groups (docs/api.md, Resources, Device group).

export class GroupNotFoundError extends DomainError {
  readonly code = 'GROUP_NOT_FOUND';
  constructor(readonly groupId: string) {
    super(`device group ${groupId} not found`);
  }
}

/** `parent_id` names a group that does not exist (404, distinct code from the group in the path). */
export class ParentGroupNotFoundError extends DomainError {
  readonly code = 'PARENT_GROUP_NOT_FOUND';
  constructor(readonly parentId: string) {
    super(`parent group ${parentId} not found`);
  }
}

export class GroupAlreadyExistsError extends DomainError {
  readonly code = 'GROUP_ALREADY_EXISTS';
  constructor(
    readonly groupId: string,
    options?: { cause?: unknown },
  ) {
    super(`device group ${groupId} already exists`, options);
  }
}

/** Group names are unique, compared case-insensitively (see functions/domain/groups.ts). */
export class GroupNameTakenError extends DomainError {
  readonly code = 'GROUP_NAME_TAKEN';
  constructor(
    readonly groupName: string,
    options?: { cause?: unknown },
  ) {
    super(`a device group named '${groupName}' already exists`, options);
  }
}

/** Deleting a group that has children without `?cascade=true`. */
export class GroupHasChildrenError extends DomainError {
  readonly code = 'GROUP_HAS_CHILDREN';
  constructor(
    readonly groupId: string,
    readonly children: number,
  ) {
    super(`device group ${groupId} has ${children} child group(s); delete them first or use ?cascade=true`);
  }
}

/** Self-parenting or re-parenting under a descendant: a 400 naming `parent_id`. */
export class GroupCycleError extends ValidationError {
  constructor(
    readonly groupId: string,
    readonly parentId: string,
  ) {
    super(`device group ${groupId} cannot be placed under ${parentId}: that would create a cycle`, [
      {
        field: 'parent_id',
        problem:
          parentId === groupId
            ? 'a group cannot be its own parent'
            : `'${parentId}' is ${groupId} itself or one of its descendants`,
      },
    ]);
  }
}

/** The hierarchy would be deeper than GROUP_MAX_DEPTH levels (a root is level 1). */
export class GroupDepthExceededError extends ValidationError {
  constructor(
    readonly groupId: string,
    readonly depth: number,
    readonly maxDepth: number,
  ) {
    super(`device group hierarchy would be ${depth} levels deep; the limit is ${maxDepth}`, [
      {
        field: 'parent_id',
        problem: `placing ${groupId} there makes the hierarchy ${depth} levels deep (limit ${maxDepth})`,
      },
    ]);
  }
}

export class SlotNotFoundError extends DomainError {
  readonly code = 'SLOT_NOT_FOUND';
  constructor(
    readonly deviceId: string,
    readonly slot: string,
    readonly version?: number,
  ) {
    super(
      version === undefined
        ? `device ${deviceId} has no slot '${slot}'`
        : `device ${deviceId} has no version ${version} of slot '${slot}'`,
    );
  }
}

/** AWS IoT holds this CA certificate already. */
export class IotCaExistsError extends DomainError {
  readonly code = 'CA_ALREADY_REGISTERED';
  constructor(options?: { cause?: unknown }) {
    super('AWS IoT has this CA certificate registered already', options);
  }
}

/** AWS IoT refused a request for its content (a certificate it does not accept, a registration code that differs). */
export class IotRejectedError extends DomainError {
  readonly code = 'IOT_REJECTED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`AWS IoT refused it: ${message}`, options);
  }
}

/** The AWS IoT thing moved past the version an update expected (the IoT sync re-reads and re-applies). */
export class IotVersionConflictError extends DomainError {
  readonly code = 'IOT_VERSION_CONFLICT';
  constructor(
    readonly thingName: string,
    options?: { cause?: unknown },
  ) {
    super(`AWS IoT thing ${thingName} changed concurrently`, options);
  }
}

export class JobNotFoundError extends DomainError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(readonly jobId: string) {
    super(`job ${jobId} not found`);
  }
}

/** A cancel of a job that already SUCCEEDED or FAILED. */
export class JobFinishedError extends DomainError {
  readonly code = 'JOB_FINISHED';
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`job ${jobId} is ${status}: only a PENDING or RUNNING job can be cancelled`);
  }
}

/**
 * The job already recorded an outcome for this device (an earlier or concurrent attempt of the same
 * page): the change was not written. Never reaches a client.
 */
export class JobOutcomeExistsError extends DomainError {
  readonly code = 'JOB_OUTCOME_EXISTS';
  constructor(
    readonly jobId: string,
    readonly deviceId: string,
    options?: { cause?: unknown },
  ) {
    super(`job ${jobId} already handled device ${deviceId}`, options);
  }
}

/** No server-side import has this id. */
export class ImportNotFoundError extends DomainError {
  readonly code = 'IMPORT_NOT_FOUND';
  constructor(readonly importId: string) {
    super(`import ${importId} not found`);
  }
}

/**
 * The holder index does not show a device's change yet (its reads are eventually consistent): the
 * shared-findings reconciler leaves the batch to be delivered again rather than judge from it.
 */
export class HolderIndexBehindError extends ContentionError {
  constructor(id: string, publicKey: string) {
    super(`the holder index does not show device ${id} under public key ${publicKey} yet`);
  }
}
