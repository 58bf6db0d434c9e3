/** Stable error codes: callers (CLI, server) map them to exit codes and problem types. */
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_config'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'embedder_mismatch'
  | 'embedder_failed'
  | 'storage';

export class MemcubeError extends Error {
  readonly code: ErrorCode;
  /** The offending field, as a path (`messages[1].content`), when one field is to blame. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'MemcubeError';
    this.code = code;
    this.field = options.field;
  }
}

export class InvalidInputError extends MemcubeError {
  constructor(message: string, field?: string) {
    super('invalid_input', message, field === undefined ? {} : { field });
    this.name = 'InvalidInputError';
  }
}

export class NotFoundError extends MemcubeError {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends MemcubeError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/**
 * Context keys were derived from turns of a session that another process has changed since: the
 * write is refused and changes nothing; deriving the keys again and retrying succeeds.
 */
export class SessionChangedError extends ConflictError {
  constructor(sessionId: string) {
    super(`session '${sessionId}' changed while its context keys were derived; try again`);
    this.name = 'SessionChangedError';
  }
}

export class EmbedderMismatchError extends MemcubeError {
  constructor(
    message: string,
    /** The embedder the cube was built with. */
    readonly cubeEmbedderId: string,
  ) {
    super('embedder_mismatch', message);
    this.name = 'EmbedderMismatchError';
  }
}

/** The caller is known but its key or grant does not allow the operation. */
export class ForbiddenError extends MemcubeError {
  constructor(message: string) {
    super('forbidden', message);
    this.name = 'ForbiddenError';
  }
}

/**
 * The error as a caller that named its arguments otherwise tells it: `rename` maps the field
 * (`patch.content`) to the caller's name (`text`), to '' for the caller's whole input (no field),
 * or to undefined to keep it. The message's leading field is renamed with it; an error that names
 * no field, or that is no input error, passes through as it is.
 */
export function withFieldRenamed(err: unknown, rename: (field: string) => string | undefined): unknown {
  if (!(err instanceof MemcubeError) || err.code !== 'invalid_input' || err.field === undefined) return err;
  const named = rename(err.field);
  if (named === undefined || named === err.field) return err;
  const lead = `${err.field}: `;
  if (!err.message.startsWith(lead)) return new InvalidInputError(err.message, named || undefined);
  const rest = err.message.slice(lead.length);
  return new InvalidInputError(named ? `${named}: ${rest}` : rest, named || undefined);
}
