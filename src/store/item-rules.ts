import { ConflictError, InvalidInputError } from '../core/errors.js';

/** Frozen items are on compliance hold and deleted ones must be restored first: neither takes an update. */
export function assertMutable(row: { id: string; status: string }, operation: string): void {
  if (row.status === 'frozen')
    throw new ConflictError(`item '${row.id}' is frozen (compliance hold); ${operation} refused`);
  if (row.status === 'deleted')
    throw new ConflictError(`item '${row.id}' is deleted; restore it before you ${operation} it`);
}

/**
 * Content is never empty: the SQLite store writes '' for "the item's content" (`SAME_AS_CONTENT`),
 * and the API layers refuse blank text before it gets here.
 */
export function assertContent(content: string, field = 'content'): void {
  if (content === '') throw new InvalidInputError(`${field}: empty; an item needs some text`, field);
}

/** A vector must have the cube's dimension: one of another length would break every scan of the cube. */
export function assertVectorLength(vector: Float32Array, dimensions: number): void {
  if (vector.length !== dimensions) {
    throw new InvalidInputError(
      `embedding: ${vector.length} numbers, but the cube's embedder makes ${dimensions}; embed with the cube's embedder (or re-embed the cube)`,
      'embedding',
    );
  }
}

/** A list cursor: the last item key seen, opaque to callers. */
export function encodeCursor(itemKey: number): string {
  return Buffer.from(JSON.stringify({ k: itemKey })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'number' && Number.isInteger(parsed.k)) return parsed.k;
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError(
    'cursor: not a cursor returned by list; omit it to start from the first page',
    'cursor',
  );
}
