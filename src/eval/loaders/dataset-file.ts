import fs from 'node:fs';
import zlib from 'node:zlib';
import type { z } from 'zod';
import { InvalidInputError } from '../../core/errors.js';
import { formatPath } from '../../core/validate.js';

/** The two magic bytes every gzip stream starts with; more reliable than trusting the file name. */
const GZIP_MAGIC = [0x1f, 0x8b];

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads a `.json` or `.json.gz` file (gzip is recognised by content) and parses the JSON. */
export function readJsonFile(file: string): unknown {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read: ${reason(err)}`,
      'data',
    );
  }
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (err) {
      throw new InvalidInputError(`${file}: not a valid gzip file: ${reason(err)}`, 'data');
    }
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InvalidInputError(`${file}: not valid JSON: ${reason(err)}`, 'data');
  }
}

/**
 * Validates a parsed dataset; on failure names the file, the dataset kind and the first bad
 * field (`[2].qa[5].evidence`), so a wrong or damaged file is found at once.
 */
export function parseDataset<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  kind: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  const where = first ? formatPath(first.path) : '';
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new InvalidInputError(
    `${file}: not a valid ${kind} file: ${where ? `${where}: ` : ''}${first?.message ?? 'invalid value'}${more}`,
    'data',
  );
}
