import { ForbiddenError } from '../core/errors.js';
import { PERMISSIONS, type Permission } from '../core/types.js';

const rank = (p: Permission): number => PERMISSIONS.indexOf(p);

/** The highest level among `scopes`; a key's scopes grant that level and every level below it. */
export function highest(scopes: readonly Permission[]): Permission | null {
  let best: Permission | null = null;
  for (const s of scopes) if (best === null || rank(s) > rank(best)) best = s;
  return best;
}

export function lowest(a: Permission, b: Permission): Permission {
  return rank(a) <= rank(b) ? a : b;
}

export function allows(held: Permission, needed: Permission): boolean {
  return rank(held) >= rank(needed);
}

export function requirePermission(held: Permission, needed: Permission, what: string): void {
  if (!allows(held, needed)) {
    throw new ForbiddenError(`${what} needs '${needed}' permission; this key has '${held}'`);
  }
}
