import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorFromIssues } from '../core/validate.js';
import { parseKey, secretMatches } from '../govern/api-keys.js';
import { handleMcpRequest } from '../mcp/http.js';
import type { MemoryOS } from '../os/memory-os.js';
import type { AccessStore, ApiKeyRecord } from '../store/access.js';
import { methodsAllowed } from './allowed-methods.js';
import { registerDocs } from './docs.js';
import type { ServerMetrics } from './metrics.js';
import { ProblemError, problemFromError, problemOf, problemResponse } from './problems.js';
import type { RateLimiter } from './rate-limit.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerCubeRoutes } from './routes/cubes.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMemoryRoutes } from './routes/memories.js';

export type Caller = { kind: 'admin' } | { kind: 'key'; key: ApiKeyRecord };

export interface AppEnv {
  Variables: { requestId: string; caller: Caller };
}

export type App = OpenAPIHono<AppEnv>;

export interface AppDeps {
  /** The root handle; each request acts through `memory.as(...)` for its key. */
  memory: MemoryOS;
  access: AccessStore;
  /** SHA-256 hex of the bootstrap admin key, or null when none is configured. */
  adminKeyHash: string | null;
  maxBodyBytes: number;
  limiter: RateLimiter | null;
  metrics: ServerMetrics;
  /** False once shutdown has begun: `ready` answers 503. */
  isReady: () => boolean;
  version: string;
}

export interface RouteHelpers {
  /** The library handle acting for the request's key; the admin key has none. */
  memoryFor(c: Context<AppEnv>): MemoryOS;
  caller(c: Context<AppEnv>): Caller;
}

const PUBLIC_PATHS = new Set(['/v1/health', '/v1/ready', '/v1/metrics', '/v1/openapi.json']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function bearer(c: Context): string | null {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? null;
}

export function createApp(deps: AppDeps): App {
  const app: App = new OpenAPIHono<AppEnv>({
    strict: true,
    // Validation failures become problem documents naming the field, like the library's errors.
    defaultHook: (result, c) => {
      if (!result.success) {
        const err = errorFromIssues(result.error.issues, { zodMessages: true });
        return problemResponse(c, problemOf('invalid_input', err.message, err.field));
      }
    },
  });

  app.use('*', async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('x-request-id', requestId);
    deps.metrics.observe(c.req.method, c.req.routePath, c.res.status, (performance.now() - started) / 1000);
  });

  app.onError((err, c) => {
    const { problem, headers } = problemFromError(err);
    // A problem raised on purpose (503 while shutting down) is an answer, not a fault to log.
    if (problem.status >= 500 && !(err instanceof ProblemError))
      process.stderr.write(`memcube serve: ${(err as Error).stack ?? String(err)}\n`);
    return problemResponse(c, problem, headers);
  });
  // Read at the first miss, once every route is registered.
  let allowedOn: ((path: string) => string[]) | undefined;
  app.notFound((c) => {
    allowedOn ??= methodsAllowed(app.routes);
    const allowed = allowedOn(c.req.path);
    // A route that takes the method and found nothing (an unknown docs asset) is a 404 too.
    if (allowed.length === 0 || allowed.includes(c.req.method)) {
      return problemResponse(c, problemOf('not_found', `no route ${c.req.method} ${c.req.path}`));
    }
    const detail = `${c.req.path} does not answer ${c.req.method}; it answers ${allowed.join(', ')}`;
    return problemResponse(c, problemOf('method_not_allowed', detail), { allow: allowed.join(', ') });
  });

  const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path) || c.req.path.startsWith('/v1/docs')) return next();
    const presented = bearer(c);
    if (!presented) throw unauthenticated('send an API key: Authorization: Bearer <key>');
    if (deps.adminKeyHash && secretMatches(presented, deps.adminKeyHash)) {
      c.set('caller', { kind: 'admin' });
    } else {
      const parsed = parseKey(presented);
      const stored = parsed ? await deps.access.findKey(parsed.id) : null;
      if (!parsed || !stored || !secretMatches(parsed.secret, stored.secretHash)) {
        throw unauthenticated('unknown API key');
      }
      if (stored.revokedAt !== null) throw unauthenticated('this API key has been revoked');
      if (stored.expiresAt !== null && Date.parse(stored.expiresAt) <= Date.now()) {
        throw unauthenticated('this API key has expired');
      }
      const { secretHash: _, ...key } = stored;
      c.set('caller', { kind: 'key', key });
    }
    if (deps.limiter) {
      const caller = c.get('caller');
      const verdict = deps.limiter.take(caller.kind === 'admin' ? 'admin' : caller.key.id);
      if (!verdict.ok) {
        deps.metrics.rateLimited.inc();
        throw new ProblemError(
          'rate_limited',
          `rate limit exceeded for this key; retry in ${verdict.retryAfterSeconds}s`,
          undefined,
          { 'retry-after': String(verdict.retryAfterSeconds) },
        );
      }
    }
    return next();
  };

  const jsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method) || c.req.path === '/mcp') return next();
    const buffer = await c.req.arrayBuffer();
    if (buffer.byteLength === 0) return next();
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      throw new ProblemError(
        'unsupported_media_type',
        `send JSON with Content-Type: application/json (got '${type}')`,
      );
    }
    let text: string;
    try {
      text = utf8.decode(buffer);
    } catch {
      throw new ProblemError('invalid_json', 'the body is not valid UTF-8');
    }
    if (nestingDepth(text) > MAX_JSON_DEPTH) {
      throw new ProblemError('invalid_json', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    try {
      JSON.parse(text);
    } catch (err) {
      throw new ProblemError('invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
    }
    return next();
  };

  app.use(
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new ProblemError(
          'payload_too_large',
          `the body is over the limit of ${deps.maxBodyBytes} bytes`,
        );
      },
    }),
  );
  app.use('*', authenticate);
  app.use('*', jsonBody);

  const helpers: RouteHelpers = {
    caller: (c) => c.get('caller'),
    memoryFor: (c) => {
      const caller = c.get('caller');
      if (caller.kind === 'admin') {
        throw new ProblemError(
          'forbidden',
          "the admin key manages tenants and keys; use a tenant's API key for memories",
        );
      }
      return deps.memory.as({
        tenant: caller.key.tenant,
        actor: caller.key.id,
        scopes: caller.key.scopes,
        cubes: caller.key.cubes,
        keyId: caller.key.id,
        requestId: c.get('requestId'),
      });
    },
  };

  registerHealthRoutes(app, deps);
  registerAdminRoutes(app, deps.access, helpers);
  registerCubeRoutes(app, helpers);
  registerMemoryRoutes(app, helpers);
  // MCP over streamable HTTP, behind the same keys, limits and permissions as the REST API.
  app.all('/mcp', (c) =>
    handleMcpRequest(helpers.memoryFor(c), c.req.raw, { defaultCube: 'default', version: deps.version }),
  );
  registerDocs(app);
  return app;
}

/** Deeply nested JSON is refused before parsing: validators and serialisers recurse per level. */
const MAX_JSON_DEPTH = 64;

function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) max = Math.max(max, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return max;
}

function unauthenticated(detail: string): ProblemError {
  return new ProblemError('unauthenticated', detail, undefined, { 'www-authenticate': 'Bearer' });
}
