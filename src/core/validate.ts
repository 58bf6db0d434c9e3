import type { z } from 'zod';
import { InvalidInputError, MemcubeError } from './errors.js';

/** `['messages', 1, 'content']` → `messages[1].content`. */
export function formatPath(path: ReadonlyArray<PropertyKey>, root?: string): string {
  let out = root ?? '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  root: string | undefined,
): { field: string; message: string } {
  const field = formatPath(issue.path, root);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => formatPath([k], field || undefined));
    return { field: keys[0] ?? field, message: `unknown field ${keys.map((k) => `'${k}'`).join(', ')}` };
  }
  return { field, message: field ? `${field}: ${issue.message}` : issue.message };
}

/**
 * Parses `value` with `schema`; on failure throws an error that names the first bad field.
 * `kind` picks the error class so config problems and input problems read differently.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { root?: string; kind?: 'input' | 'config' } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw errorFromIssues(result.error.issues, options);
}

/** The error `parseWith` throws for these issues, naming the first bad field. */
export function errorFromIssues(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  options: { root?: string; kind?: 'input' | 'config' } = {},
): MemcubeError {
  const first = issues[0];
  const { field, message } = first
    ? describeIssue(first, options.root)
    : { field: options.root ?? '', message: 'invalid value' };
  if (options.kind === 'config') {
    return new MemcubeError('invalid_config', `invalid config: ${message}`, { field });
  }
  return new InvalidInputError(message, field || undefined);
}
