/** The CLI's named errors: each ends the run with a message and a non-zero exit code. */

/** Wrong arguments or an unusable input file: exit code 2. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The API refused every request (401/403) or answered something the CLI cannot go on with: exit code 2. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

/** The API stayed unreachable through every retry: the run stops (exit code 2) rather than fail each line. */
export class ApiUnreachableError extends Error {
  constructor(api: string, options: { cause: unknown }) {
    super(`cannot reach ${api}: ${(options.cause as Error).message}`, options);
    this.name = 'ApiUnreachableError';
  }
}
