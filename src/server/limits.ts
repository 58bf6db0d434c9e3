import { MemcubeError } from '../core/errors.js';
import type { RateLimit } from './rate-limit.js';

/** The largest request body a server accepts unless told otherwise. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Requests per second per key, and the burst above it, unless told otherwise. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 100 };

/** The bootstrap admin key's shortest length: it grants every tenant. */
const MIN_ADMIN_KEY_CHARS = 16;

/** Refuses an admin key too short to be a secret (checked before a database is opened or made). */
export function assertAdminKey(adminKey: string | undefined): void {
  if (adminKey !== undefined && adminKey.length < MIN_ADMIN_KEY_CHARS) {
    throw new MemcubeError(
      'invalid_config',
      `MEMCUBE_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_CHARS} characters`,
      {
        field: 'MEMCUBE_ADMIN_KEY',
      },
    );
  }
}
