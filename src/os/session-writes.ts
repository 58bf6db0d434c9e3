import { SessionChangedError } from '../core/errors.js';

/**
 * Tries of a write whose context keys another process keeps outdating (`SessionChangedError`):
 * each derives the keys afresh. Writers in this process never outdate them (the session lock).
 */
export const KEY_WRITE_ATTEMPTS = 8;

/** Runs a write that derives context keys again while another process changes their session. */
export async function whileSessionChanges<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof SessionChangedError) || attempt === KEY_WRITE_ATTEMPTS) throw err;
    }
  }
}
