import { createHash } from 'node:crypto';
import { validate as uuidValidate, v7 as uuidv7 } from 'uuid';

/** Item ids are UUIDv7: unique, time-ordered, and never changed after `add` returns. */
export function newItemId(): string {
  return uuidv7();
}

export function isItemId(value: string): boolean {
  return uuidValidate(value);
}

/**
 * The short form of an id, as context blocks cite it: the UUID's last group, 12 random hex
 * digits (48 bits), so it stays unique in any realistic cube. Like git's abbreviated hashes,
 * every call that takes an id also takes its short form.
 */
export function shortId(id: string): string {
  return id.slice(-12);
}

export function isShortId(value: string): boolean {
  return /^[0-9a-f]{12}$/.test(value);
}

/** Whitespace-insensitive content fingerprint; identical content in one session is stored once. */
export function contentHash(content: string): string {
  return createHash('sha256').update(content.trim().replace(/\s+/g, ' ')).digest('hex');
}
