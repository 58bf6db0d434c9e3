import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Secrets look like `mck_<id>_<secret>`: the id finds the stored hash, the secret is checked against it. */
const KEY_PATTERN = /^mck_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedSecret {
  id: string;
  /** The whole key, shown once to whoever created it; only its hash is stored. */
  key: string;
  secretHash: string;
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new key id and 256-bit secret; SHA-256 suffices for a secret of that entropy (no password stretching). */
export function issueSecret(): IssuedSecret {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `mck_${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseKey(key: string): { id: string; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : null;
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
