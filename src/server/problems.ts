import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { MemcubeError, withFieldRenamed } from '../core/errors.js';

/** RFC 9457 problem details; `type` is stable per kind of error so clients can switch on it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The offending field, as a path (`messages[1].content`), when one field is to blame. */
  field?: string;
  requestId?: string;
}

const TYPE_BASE = 'https://memcube.dev/problems/';

export const PROBLEMS = {
  invalid_input: { status: 400, title: 'Invalid input' },
  invalid_json: { status: 400, title: 'Invalid JSON body' },
  invalid_config: { status: 400, title: 'Invalid configuration' },
  unauthenticated: { status: 401, title: 'Missing or invalid API key' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  embedder_mismatch: { status: 409, title: 'Embedder mismatch' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  embedder_failed: { status: 502, title: 'Embedder failed' },
  storage: { status: 500, title: 'Storage error' },
  unavailable: { status: 503, title: 'Unavailable' },
  internal: { status: 500, title: 'Internal error' },
} as const;
export type ProblemKind = keyof typeof PROBLEMS;

export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function problemOf(kind: ProblemKind, detail: string, field?: string): Problem {
  const { status, title } = PROBLEMS[kind];
  return {
    type: `${TYPE_BASE}${kind.replaceAll('_', '-')}`,
    title,
    status,
    detail,
    ...(field ? { field } : {}),
  };
}

/** The audit query's fields as `GET /v1/audit` spells them. */
const AUDIT_PARAMETER: Record<string, string> = {
  itemId: 'item',
  afterId: 'after',
  beforeId: 'before',
  actor: 'key',
};

/**
 * The library names a field by its own argument (`patch.content`, `options.kinds[0]`,
 * `query.itemId`); a client sent it as `content`, `kinds`, `item`.
 */
function requestField(field: string): string | undefined {
  // The argument itself is the request's whole body or query.
  if (field === 'options' || field === 'patch' || field === 'query') return '';
  const found = /^(options|patch|query)\.(\w+)(.*)$/.exec(field);
  if (!found) return undefined;
  const [, root, name = '', rest] = found;
  return `${(root === 'query' && AUDIT_PARAMETER[name]) || name}${rest}`;
}

/** Maps any thrown value to a problem; only a bug or a broken store is a 5xx. */
export function problemFromError(err: unknown): { problem: Problem; headers: Record<string, string> } {
  if (err instanceof ProblemError)
    return { problem: problemOf(err.kind, err.detail, err.field), headers: err.headers };
  if (err instanceof MemcubeError) {
    const told = withFieldRenamed(err, requestField) as MemcubeError;
    return { problem: problemOf(told.code, told.message, told.field), headers: {} };
  }
  // Hono's own refusals (a body the JSON validator cannot parse, an oversized body).
  if (err instanceof HTTPException && err.status < 500) {
    const kind: ProblemKind =
      err.status === 413 ? 'payload_too_large' : err.status === 400 ? 'invalid_json' : 'invalid_input';
    return {
      problem: { ...problemOf(kind, err.message || PROBLEMS[kind].title), status: err.status },
      headers: {},
    };
  }
  return { problem: problemOf('internal', 'an unexpected error occurred; it has been logged'), headers: {} };
}

export function problemResponse(
  c: Context,
  problem: Problem,
  headers: Record<string, string> = {},
): Response {
  const requestId = c.get('requestId' as never) as string | undefined;
  const body = JSON.stringify(requestId ? { ...problem, requestId } : problem);
  return new Response(body, {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}
