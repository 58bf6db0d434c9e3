import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { CLI } from '../cli/helpers.js';
import { type PgliteServer, startPgliteServer } from '../helpers/pglite-server.js';
import { ADMIN_KEY, type Reply, startTestServer, type TestServer } from './helpers.js';

let pglite: PgliteServer;
const servers: TestServer[] = [];

/** A server over its own store (its own pool) on the shared PGlite database; one connection: see pglite-server.ts. */
async function serverOnPglite(schema: string): Promise<TestServer> {
  const store = await PostgresStore.open({ connectionString: pglite.url, schema, max: 1 });
  const server = await startTestServer({ store });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  pglite = await startPgliteServer();
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await pglite?.stop();
});

describe('the server on PostgreSQL (PGlite)', () => {
  it('creates a tenant and key with the admin key, then adds and searches over HTTP', async () => {
    const t = await serverOnPglite('serve_one');
    const acme = await t.keyFor('acme', ['admin']);
    expect((await t.call('POST', '/v1/cubes', { key: acme.key, body: { name: 'notes' } })).status).toBe(201);
    const added = await t.call('POST', '/v1/cubes/notes/memories', {
      key: acme.key,
      body: { messages: [{ content: 'the lighthouse keeper logs the weather' }], sessionId: 's1' },
    });
    expect(added.status).toBe(201);
    const hits = await t.call('POST', '/v1/cubes/notes/search', {
      key: acme.key,
      body: { query: 'lighthouse weather' },
    });
    expect(hits.status).toBe(200);
    expect(hits.body.map((h: { item: { id: string } }) => h.item.id)).toEqual(added.body.ids);
    const audit = await t.call('GET', '/v1/audit', { key: acme.key });
    expect(audit.status).toBe(200);
    expect(audit.body.map((r: { operation: string }) => r.operation)).toEqual([
      'create_tenant',
      'create_key',
      'create_cube',
      'add',
    ]);
  });

  it('two servers on one database: a write through one is readable through the other at once', async () => {
    const a = await serverOnPglite('serve_two');
    const b = await serverOnPglite('serve_two');
    // A tenant and key made through A authenticate at B: keys live in the database, not the process.
    const acme = await a.keyFor('acme', ['write']);
    expect((await b.call('POST', '/v1/cubes', { key: acme.key, body: { name: 'shared' } })).status).toBe(201);
    const added = await a.call('POST', '/v1/cubes/shared/memories', {
      key: acme.key,
      body: { messages: [{ content: 'written through server A' }], sessionId: 's1' },
    });
    expect(added.status).toBe(201);
    const id = added.body.ids[0] as string;
    const read = await b.call('GET', `/v1/cubes/shared/memories/${id}`, { key: acme.key });
    expect(read.status).toBe(200);
    expect(read.body.content).toBe('written through server A');
    const hits = await b.call('POST', '/v1/cubes/shared/search', {
      key: acme.key,
      body: { query: 'server' },
    });
    expect(hits.body.map((h: { item: { id: string } }) => h.item.id)).toEqual([id]);

    // A key revoked through B is refused by A on its next request.
    expect((await b.call('DELETE', `/v1/keys/${acme.id}?tenant=acme`)).status).toBe(200);
    expect((await a.call('GET', '/v1/cubes', { key: acme.key })).status).toBe(401);
  });
});

/** `memcube serve --pg` as its own process; resolves with its URL once it listens. */
async function serveProcess(url: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [CLI, '--embedder', 'none', 'serve', '--pg', url, '--pg-pool', '1', '--port', '0'],
    { env: { ...process.env, MEMCUBE_ADMIN_KEY: ADMIN_KEY } },
  );
  let stderr = '';
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /on (http:\/\/\S+) /.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  expect(stderr).not.toContain('postgres:postgres@');
  return { child, base };
}

describe('memcube serve --pg', () => {
  it('two server processes on one database: a write through one is readable through the other at once', async () => {
    const a = await serveProcess(pglite.url);
    const b = await serveProcess(pglite.url);
    try {
      const call = async (
        base: string,
        method: string,
        p: string,
        key: string,
        body?: unknown,
      ): Promise<Pick<Reply, 'status' | 'body'>> => {
        const res = await fetch(`${base}${p}`, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: await res.json() };
      };
      expect((await call(a.base, 'POST', '/v1/tenants', ADMIN_KEY, { id: 'acme' })).status).toBe(201);
      const made = await call(b.base, 'POST', '/v1/keys', ADMIN_KEY, {
        tenant: 'acme',
        name: 'k',
        scopes: ['write'],
      });
      const key = made.body.key as string;
      expect((await call(a.base, 'POST', '/v1/cubes', key, { name: 'notes' })).status).toBe(201);
      const added = await call(b.base, 'POST', '/v1/cubes/notes/memories', key, {
        text: 'written through process B',
      });
      expect(added.status).toBe(201);
      const id = added.body.ids[0] as string;
      const read = await call(a.base, 'GET', `/v1/cubes/notes/memories/${id}`, key);
      expect(read.body.content).toBe('written through process B');
      const hits = await call(a.base, 'POST', '/v1/cubes/notes/search', key, { query: 'process' });
      expect(hits.body.map((h: { item: { id: string } }) => h.item.id)).toEqual([id]);
    } finally {
      for (const { child } of [a, b]) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('refuses --db and --pg together with a clear error', () => {
    const run = spawnSync(
      process.execPath,
      [CLI, '--db', 'x.db', 'serve', '--pg', 'postgres://localhost/memcube', '--port', '0'],
      { encoding: 'utf8' },
    );
    // Options that clash: a command line to fix, as commander's own refusals are.
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('give either --db or --pg, not both');
  });

  it('takes only a postgres URL', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--pg', 'data.db'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('expected a postgres:// or postgresql:// URL');
  });
});
