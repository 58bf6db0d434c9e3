import type { Embedder } from '../../src/embed/embedder.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import type { RateLimit } from '../../src/server/rate-limit.js';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import type { Store } from '../../src/store/store.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface Reply {
  status: number;
  headers: Headers;
  // Parsed JSON of whatever shape the route returns; the tests check it field by field.
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted structurally
  body: any;
  text: string;
}

export interface TestServer {
  server: RunningServer;
  url: string;
  /** One request; `body` is sent as JSON unless `raw` is given. */
  call(
    method: string,
    path: string,
    options?: {
      key?: string | null;
      body?: unknown;
      raw?: string | Buffer;
      headers?: Record<string, string>;
    },
  ): Promise<Reply>;
  /** A tenant (created if new) and a key of it with these scopes. */
  keyFor(
    tenant: string,
    scopes?: Array<'read' | 'write' | 'admin'>,
    extra?: { cubes?: string[]; expiresAt?: string },
  ): Promise<{ key: string; id: string }>;
  close(): Promise<void>;
}

/**
 * A real server on an ephemeral loopback port, lexical only, over an in-memory SQLite store or
 * the given one (which closing the server closes too).
 */
export async function startTestServer(
  options: { rateLimit?: RateLimit | null; maxBodyBytes?: number; embedder?: Embedder; store?: Store } = {},
): Promise<TestServer> {
  const memory = await MemoryOS.open({
    ...(options.store ? { store: options.store, closeStore: true } : { path: ':memory:' }),
    embedder: options.embedder ?? 'none',
    actor: 'server',
    ...PLAIN_RETRIEVAL,
  });
  const server = await startServer({
    memory,
    port: 0,
    host: '127.0.0.1',
    adminKey: ADMIN_KEY,
    rateLimit: options.rateLimit ?? null,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const tenants = new Set<string>();
  const call: TestServer['call'] = async (method, path, o = {}) => {
    const key = o.key === undefined ? ADMIN_KEY : o.key;
    const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}) };
    let body: string | Buffer | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, { method, headers: { ...headers, ...o.headers }, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    server,
    url: server.url,
    call,
    keyFor: async (tenant, scopes = ['admin'], extra = {}) => {
      if (!tenants.has(tenant)) {
        const made = await call('POST', '/v1/tenants', { body: { id: tenant } });
        if (made.status !== 201) throw new Error(`tenant: ${made.text}`);
        tenants.add(tenant);
      }
      const res = await call('POST', '/v1/keys', { body: { tenant, name: 'test', scopes, ...extra } });
      if (res.status !== 201) throw new Error(`key: ${res.text}`);
      return { key: res.body.key as string, id: res.body.record.id as string };
    },
    close: () => server.close(),
  };
}

/** Asserts an RFC 9457 problem document and returns it. */
export function problem(reply: Reply, status: number, type: string): Record<string, unknown> {
  if (reply.status !== status || !reply.headers.get('content-type')?.startsWith('application/problem+json')) {
    throw new Error(
      `expected a ${status} problem, got ${reply.status} ${reply.headers.get('content-type')}: ${reply.text}`,
    );
  }
  if (reply.body.type !== `https://memcube.dev/problems/${type}`) {
    throw new Error(`expected problem type ${type}, got ${reply.body.type}: ${reply.text}`);
  }
  if (
    reply.body.status !== status ||
    typeof reply.body.title !== 'string' ||
    typeof reply.body.detail !== 'string'
  ) {
    throw new Error(`malformed problem: ${reply.text}`);
  }
  return reply.body;
}
