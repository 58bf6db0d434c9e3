import type { RateLimit } from './rate-limit.js';

/** The largest request body a server accepts unless told otherwise. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Requests per second per key, and the burst above it, unless told otherwise. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 100 };
