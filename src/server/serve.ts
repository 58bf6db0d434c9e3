import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { MemcubeError } from '../core/errors.js';
import { hashSecret } from '../govern/api-keys.js';
import type { MemoryOS } from '../os/memory-os.js';
import { createApp } from './app.js';
import { VERSION } from './docs.js';
import { assertAdminKey, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT } from './limits.js';
import { ServerMetrics } from './metrics.js';
import { type RateLimit, RateLimiter } from './rate-limit.js';

export interface ServeOptions {
  /** The root handle; the server closes it on shutdown. Open it on any `Store` (SQLite, Postgres). */
  memory: MemoryOS;
  port: number;
  host: string;
  /** The bootstrap admin key (`MEMCUBE_ADMIN_KEY`); without it only existing keys work. */
  adminKey?: string;
  maxBodyBytes?: number;
  /** Per-key token bucket; null turns limiting off. */
  rateLimit?: RateLimit | null;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then closes the store. */
  close(): Promise<void>;
}

/** Why the server could not listen, as a config error naming the setting to change. */
function listenError(host: string, port: number, err: NodeJS.ErrnoException): MemcubeError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why: Record<string, [string, string]> = {
    EADDRINUSE: ['port', `the port is in use; choose another port, or 0 for a free one`],
    EACCES: ['port', 'this user may not listen on that port; choose one above 1023'],
    EADDRNOTAVAIL: ['host', 'no interface of this machine has that address'],
    ENOTFOUND: ['host', 'the host name does not resolve'],
  };
  const [field, reason] = why[err.code ?? ''] ?? ['host', err.message];
  return new MemcubeError('invalid_config', `cannot listen on ${where}: ${reason} (${err.code ?? 'error'})`, {
    field,
    cause: err,
  });
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const access = options.memory.accessStore;
  if (!access) throw new MemcubeError('invalid_config', 'the server needs a store with tenants and keys');
  assertAdminKey(options.adminKey);
  let ready = true;
  const rateLimit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  const app = createApp({
    memory: options.memory,
    access,
    adminKeyHash: options.adminKey ? hashSecret(options.adminKey) : null,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    limiter: rateLimit ? new RateLimiter(rateLimit) : null,
    metrics: new ServerMetrics(),
    isReady: () => ready,
    version: VERSION,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () =>
      resolve(s as Server),
    );
    s.once('error', (err) => reject(listenError(options.host, options.port, err)));
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      closing ??= (async () => {
        ready = false;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets would hold `close` open; busy ones finish their request first.
          server.closeIdleConnections();
        });
        await options.memory.close();
      })();
      return closing;
    },
  };
}
