import { once } from 'node:events';
import fs from 'node:fs';
import { text } from 'node:stream/consumers';
import { InvalidInputError } from '../core/errors.js';

/**
 * Reads a file, or standard input for `-`, as UTF-8 text. Standard input is read as a stream: a
 * synchronous read of a pipe fails with EAGAIN when the writer has not written yet
 * (`memcube export | memcube import -`).
 */
export async function readText(file: string): Promise<string> {
  try {
    return file === '-' ? await text(process.stdin) : fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new InvalidInputError(`cannot read '${file}': ${reason}`, 'file');
  }
}

/** A file opened for writing, or a one-line error naming it (a missing folder, no permission). */
export async function openOutput(file: string): Promise<fs.WriteStream> {
  const stream = fs.createWriteStream(file);
  try {
    await once(stream, 'open');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message;
    throw new InvalidInputError(`cannot write '${file}': ${reason}`, 'out');
  }
  return stream;
}

/**
 * Messages for `add --file`: a JSON array of messages, one message object, or JSONL with one
 * message per line. Shape errors are left to the engine's validation, which names the field.
 */
export function parseMessagesFile(text: string, file: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '')
    throw new InvalidInputError(`'${file}' is empty; expected messages as JSON or JSONL`, 'file');
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown[];
    } catch (err) {
      throw new InvalidInputError(`'${file}' is not valid JSON: ${(err as Error).message}`, 'file');
    }
  }
  return trimmed
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, n }) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new InvalidInputError(`'${file}' line ${n}: not valid JSON`, `line ${n}`);
      }
    });
}
