import { createHash } from 'node:crypto';
import { validate as uuidValidate, v7 as uuidv7 } from 'uuid';

/** Item ids are UUIDv7: unique, time-ordered, and never changed after `add` returns. */
export function newItemId(): string {
  return uuidv7();
}

export function isItemId(value: string): boolean {
  return uuidValidate(value);
}

/** Whitespace-insensitive content fingerprint; identical content in one session is stored once. */
export function contentHash(content: string): string {
  return createHash('sha256').update(content.trim().replace(/\s+/g, ' ')).digest('hex');
}
