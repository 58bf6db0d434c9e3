/**
 * A bounded loopback load run: concurrent clients mixing add and search against a real
 * `memcube serve` stack on a SQLite file or PostgreSQL, then a check that every acknowledged add
 * is stored.
 *
 *   npx tsx bench/load.ts [--seconds 60] [--clients 50] [--search-share 0.5] [--embedder none|local]
 *                         [--durability full|normal] [--out load.json]
 *                         [--pg postgres://... [--pool 10] | --pglite]
 *
 * `--pg` runs on that database, in a schema of its own that is dropped afterwards; `--pglite` on
 * an in-process PGlite (one backend, so a pool of one connection: its numbers are not a real
 * server's). CI does not run it. Latencies include the client's own work in the same process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MemoryOS } from '../src/os/memory-os.js';
import { startServer } from '../src/server/serve.js';
import { isPostgresUrl } from '../src/store/open.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { startPgliteServer } from '../test/helpers/pglite-server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '50' },
    'search-share': { type: 'string', default: '0.5' },
    embedder: { type: 'string', default: 'none' },
    durability: { type: 'string', default: 'full' },
    out: { type: 'string' },
    pg: { type: 'string' },
    pool: { type: 'string', default: '10' },
    pglite: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const searchShare = Number(values['search-share']);
const embedder = values.embedder === 'local' ? 'local' : 'none';
const durability = values.durability === 'normal' ? 'normal' : 'full';

if (values.pg !== undefined && !isPostgresUrl(values.pg)) throw new Error('--pg takes a postgres:// URL');
const pglite = values.pglite ? await startPgliteServer() : null;
const pgUrl = pglite?.url ?? values.pg;
const pool = pglite ? 1 : Number(values.pool);
const schema = `memcube_load_${Date.now().toString(36)}`;
const backend = pglite ? 'pglite' : pgUrl ? 'postgres' : 'sqlite';

const ADMIN = 'load-bench-admin-key-0123456789';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-load-'));
const db = path.join(dir, 'load.db');
/** A fresh handle on the run's database each time: the check after the run reads what was stored. */
const openMemory = async (actor: string): Promise<MemoryOS> =>
  pgUrl
    ? MemoryOS.open({
        store: await PostgresStore.open({ connectionString: pgUrl, schema, max: pool }),
        closeStore: true,
        embedder,
        actor,
      })
    : MemoryOS.open({ path: db, embedder, durability, actor });
const server = await startServer({
  memory: await openMemory('server'),
  port: 0,
  host: '127.0.0.1',
  adminKey: ADMIN,
  rateLimit: null,
});

async function post(p: string, key: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

await post('/v1/tenants', ADMIN, { id: 'load' });
const key = (
  (await post('/v1/keys', ADMIN, { tenant: 'load', name: 'load', scopes: ['write'] })).json as { key: string }
).key;
await post('/v1/cubes', key, { name: 'load' });

const WORDS =
  'alpha berlin cat dinner everest friday garden hiking island jazz kitchen lisbon museum oboe piano'.split(
    ' ',
  );
const sentence = (n: number): string =>
  `${Array.from({ length: 8 }, (_, i) => WORDS[(n * 7 + i * 13) % WORDS.length]).join(' ')} #${n}`;

const latencies: { add: number[]; search: number[] } = { add: [], search: [] };
const errors: string[] = [];
const acknowledged: string[] = [];
let counter = 0;
const deadline = performance.now() + seconds * 1000;

async function client(id: number): Promise<void> {
  while (performance.now() < deadline) {
    const n = counter++;
    const isSearch = Math.random() < searchShare;
    const started = performance.now();
    try {
      const res = isSearch
        ? await post('/v1/cubes/load/search', key, {
            query: sentence(n).split(' ').slice(0, 3).join(' '),
            limit: 10,
          })
        : await post('/v1/cubes/load/memories', key, { text: sentence(n), sessionId: `client-${id}` });
      const ms = performance.now() - started;
      if (isSearch ? res.status !== 200 : res.status !== 201) {
        errors.push(`${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
      } else if (isSearch) latencies.search.push(ms);
      else {
        latencies.add.push(ms);
        acknowledged.push(...(res.json as { ids: string[] }).ids);
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
const elapsed = (performance.now() - started) / 1000;
await server.close();

// Every acknowledged add must be there after a clean shutdown, read back through the library.
const reopened = await openMemory('check');
const cube = await reopened.as({ tenant: 'load', actor: 'check' }).cube('load', { create: false });
const stored = new Set<string>();
let cursor: string | undefined;
do {
  const page = await cube.list({ limit: 10_000, ...(cursor ? { cursor } : {}) });
  for (const item of page.items) stored.add(item.id);
  cursor = page.nextCursor;
} while (cursor);
await reopened.close();
const missing = acknowledged.filter((id) => !stored.has(id));
fs.rmSync(dir, { recursive: true, force: true });
if (pgUrl) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
  await client.end();
}
await pglite?.stop();

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) : 0;
};
const summary = (xs: number[]) => ({
  requests: xs.length,
  perSecond: Math.round(xs.length / elapsed),
  p50ms: Number(pct(xs, 50).toFixed(1)),
  p99ms: Number(pct(xs, 99).toFixed(1)),
});
const result = {
  seconds: Number(elapsed.toFixed(1)),
  clients,
  backend,
  ...(pgUrl ? { pool } : { durability }),
  embedder,
  cpus: os.availableParallelism(),
  total: { ...summary([...latencies.add, ...latencies.search]) },
  add: summary(latencies.add),
  search: summary(latencies.search),
  errors: errors.length,
  acknowledgedAdds: acknowledged.length,
  missingAfterRestart: missing.length,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
for (const e of errors.slice(0, 5)) process.stderr.write(`error: ${e}\n`);
if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2));
process.exitCode = errors.length === 0 && missing.length === 0 ? 0 : 1;
