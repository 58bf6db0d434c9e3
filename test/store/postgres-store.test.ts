import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import { openStore } from '../../src/store/open.js';
import {
  nearestSql,
  PostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/postgres/postgres-store.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/postgres/schema.js';
import { transaction, typeParsers } from '../../src/store/postgres/sql.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  expectKeysRepairedOnUpgrade,
  expectOnePartyKeysClearedOnUpgrade,
} from '../helpers/context-key-repair.js';
import { expectNoDeletedWordsAcrossProcesses } from '../helpers/interleaved-writes.js';
import { type PgliteServer, startPgliteServer } from '../helpers/pglite-server.js';
import { describeAccessConformance } from './access-conformance.js';
import { describeStoreConformance, rec, W } from './conformance.js';

let pglite: PgliteServer;
let schemas = 0;
/** A schema of its own per store: `openStore` in the conformance suite must give an empty store. */
const freshSchema = (prefix: string): string => `${prefix}_${++schemas}`;

beforeAll(async () => {
  pglite = await startPgliteServer();
});

afterAll(async () => {
  await pglite?.stop();
});

// One connection per pool: see test/helpers/pglite-server.ts.
const openPglite = (over: Partial<PostgresStoreOptions> = {}) =>
  PostgresStore.open({ connectionString: pglite.url, schema: freshSchema('store'), max: 1, ...over });

describeStoreConformance('postgres (pglite)', () => openPglite());
describeAccessConformance('postgres (pglite)', async () => {
  const store = await openPglite();
  return { store, access: store.accessStore() };
});

const realServer = process.env.MEMCUBE_TEST_PG_URL;
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const realSchemas: string[] = [];
describe.skipIf(!realServer)('against MEMCUBE_TEST_PG_URL', () => {
  afterAll(async () => {
    if (!realServer || realSchemas.length === 0) return;
    const client = new pg.Client({ connectionString: realServer });
    await client.connect();
    try {
      for (const schema of realSchemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  });
  const openReal = () => {
    const schema = `memcube_test_${runId}_${realSchemas.length}`;
    realSchemas.push(schema);
    return PostgresStore.open({ connectionString: realServer, schema });
  };
  describeStoreConformance('postgres (MEMCUBE_TEST_PG_URL)', openReal);
  describeAccessConformance('postgres (MEMCUBE_TEST_PG_URL)', async () => {
    const store = await openReal();
    return { store, access: store.accessStore() };
  });
});

const ctx = () => ({ actor: 'test', now: Date.now() });
const EMB = { id: 'test-emb', dimensions: 4 };
const unit = (...xs: number[]) => {
  const norm = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / norm));
};

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pglite.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('PostgresStore specifics', () => {
  it('migrates a schema once and records its version; reopening changes nothing', async () => {
    const schema = freshSchema('migrate');
    await (await openPglite({ schema })).close();
    await (await openPglite({ schema })).close();
    const versions = await withClient(
      async (c) => (await c.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)).rows,
    );
    expect(versions.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it("finds one user's, agent's, run's or speaker's rows, or other statuses', by their own index (migrations 4 to 6)", async () => {
    const schema = freshSchema('owners');
    await (await openPglite({ schema })).close();
    const plans = await withClient(async (c) => {
      // An empty table: without this the planner reads it whole, whatever indexes it has.
      await c.query('SET enable_seqscan = off');
      const plan = async (condition: string) =>
        (await c.query(`EXPLAIN SELECT id FROM ${schema}.items i WHERE i.cube_key = 1 AND ${condition}`)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      return [
        await plan("i.user_id = 'x'"),
        await plan("i.agent_id = 'x'"),
        await plan("i.run_id = 'x'"),
        // The store's speaker filter (filter-sql.ts).
        await plan("i.speaker = ANY('{x,y}'::text[])"),
        // The store's filter of other statuses than active (migration 6).
        await plan("i.status = ANY('{archived}'::text[]) AND i.status <> 'active'"),
      ];
    });
    expect(plans[0]).toContain('items_by_user');
    expect(plans[1]).toContain('items_by_agent');
    expect(plans[2]).toContain('items_by_run');
    expect(plans[3]).toContain('items_by_speaker');
    expect(plans[4]).toContain('items_not_active');
  });

  it('migrates a fresh schema once when two stores open it at the same moment', async () => {
    const schema = freshSchema('race');
    const stores = await Promise.all([openPglite({ schema }), openPglite({ schema })]);
    for (const s of stores) await s.close();
    const [row] = await withClient(
      async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`)).rows,
    );
    expect(row?.n).toBe(SCHEMA_VERSION);
  });

  it('upgrades a version 1 schema: its audit records gain their cube name and outlive the cube', async () => {
    const schema = freshSchema('upgrade');
    const pool = new pg.Pool({ connectionString: pglite.url, max: 1, types: typeParsers });
    try {
      await transaction(pool, async (c) => {
        await migrate(c, schema, 1);
        const cube = await c.query(
          `INSERT INTO ${schema}.cubes (tenant, name, embedder_id, dimensions, created_at)
           VALUES ('t', 'old', 'none', 0, 0) RETURNING cube_key`,
        );
        await c.query(
          `INSERT INTO ${schema}.audit (at, tenant, cube_key, item_id, operation, actor, version_before, version_after, details)
           VALUES (0, 't', $1, NULL, 'create_cube', 'v1', NULL, NULL, '{}')`,
          [cube.rows[0]?.cube_key],
        );
      });
    } finally {
      await pool.end();
    }
    const store = await openPglite({ schema });
    try {
      const scope = { tenant: 't', cube: 'old' };
      expect(await store.listAudit(scope, { limit: 10 })).toMatchObject([
        { cube: 'old', operation: 'create_cube', actor: 'v1' },
      ]);
      await store.deleteCube('t', 'old', ctx());
      const trail = await store.accessStore().listTenantAudit('t', { cube: 'old', limit: 10 });
      expect(trail.map((r) => [r.operation, r.actor])).toEqual([
        ['create_cube', 'v1'],
        ['delete_cube', 'test'],
      ]);
    } finally {
      await store.close();
    }
  });

  it("lists a cube's words from its items on the first read when they were stored before the words table", async () => {
    const schema = freshSchema('words');
    const writer = await openPglite({ schema });
    const reader = await openPglite({ schema });
    try {
      await writer.createCube('t', 'old', EMB, ctx());
      const scope = { tenant: 't', cube: 'old' };
      await writer.insertItems(scope, [rec('Kayak trip on Sunday'), rec('Pottery class')], ctx());
      // As a cube written before migration 3 left it: no words recorded, not marked listed.
      await withClient(async (c) => {
        await c.query(`DELETE FROM ${schema}.cube_words`);
        await c.query(`DELETE FROM ${schema}.cube_words_listed`);
      });
      const page = await reader.vocabulary(scope, null);
      expect(page.words).toEqual(['kayak', 'trip', 'sunday', 'pottery', 'class']);
      // Listed once: a later write adds its own words, the writer's store sees them too.
      await writer.insertItems(scope, [rec('Kayak lessons')], ctx());
      expect((await writer.vocabulary(scope, page)).words).toEqual(['lessons']);
      const [listed] = await withClient(
        async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${schema}.cube_words_listed`)).rows,
      );
      expect(listed?.n).toBe(1);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('refuses a schema written by a newer memcube', async () => {
    const schema = freshSchema('newer');
    await (await openPglite({ schema })).close();
    await withClient((c) => c.query(`INSERT INTO ${schema}.schema_migrations VALUES (999, 0)`));
    await expect(openPglite({ schema })).rejects.toMatchObject({ code: 'storage' });
  });

  it('rejects a schema name it could not splice into SQL safely', async () => {
    await expect(openPglite({ schema: 'x; DROP TABLE y' })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'schema',
    });
    await expect(openPglite({ efSearch: 0 })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('lists the sessions an older delete left words in, and opening a MemoryOS derives their keys again', async () => {
    const schema = freshSchema('repairs');
    await expectKeysRepairedOnUpgrade(
      () => openPglite({ schema }),
      async () => {
        const pool = new pg.Pool({ connectionString: pglite.url, max: 1 });
        try {
          await pool.query(`DROP TABLE ${schema}.context_key_repairs`);
          await pool.query(`DELETE FROM ${schema}.schema_migrations WHERE version >= 7`);
        } finally {
          await pool.end();
        }
      },
    );
  });

  it("lists the sessions keyed by one party's own turns, and opening a MemoryOS clears their keys", async () => {
    const schema = freshSchema('oneparty');
    await expectOnePartyKeysClearedOnUpgrade(
      () => openPglite({ schema }),
      async () => {
        const pool = new pg.Pool({ connectionString: pglite.url, max: 1 });
        try {
          await pool.query(`DELETE FROM ${schema}.schema_migrations WHERE version >= 8`);
        } finally {
          await pool.end();
        }
      },
    );
  });

  it('keeps no deleted words in context keys when two servers write one session in turn', async () => {
    const schema = freshSchema('processes');
    await expectNoDeletedWordsAcrossProcesses(() => openPglite({ schema }));
  });

  it("is stateless: two stores on one database see each other's writes at once", async () => {
    const schema = freshSchema('shared');
    const a = await openPglite({ schema });
    const b = await openPglite({ schema });
    try {
      await a.createCube('t', 'main', EMB, ctx());
      expect(await b.getCube('t', 'main')).toMatchObject({ embedderId: 'test-emb' });
      const scope = { tenant: 't', cube: 'main' };
      const r = rec('written by the first server', { embedding: unit(1, 0, 0, 0) });
      await a.insertItems(scope, [r], ctx());
      expect((await b.getItems(scope, [r.id]))[0]?.content).toBe(r.content);
      expect((await b.searchLexical(scope, ['server'], {}, 5, W)).map((h) => h.id)).toEqual([r.id]);
      expect((await b.searchVector(scope, unit(1, 0, 0, 0), {}, 5))[0]?.id).toBe(r.id);
      await b.setStatus(scope, r.id, 'deleted', 'delete', ctx());
      expect((await a.getItems(scope, [r.id]))[0]?.status).toBe('deleted');
      expect(await a.searchVector(scope, unit(1, 0, 0, 0), {}, 5)).toEqual([]);
      // Turn numbering continues across servers: it is read from the database, not a cache.
      await b.insertItems(scope, [rec('second turn')], ctx());
      expect((await a.sessionTail(scope, 's1', 1))[0]?.turnIndex).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('returns nothing for a known id of another tenant, even from another store', async () => {
    const schema = freshSchema('scoping');
    const a = await openPglite({ schema });
    const b = await openPglite({ schema });
    try {
      await a.createCube('alice', 'notes', EMB, ctx());
      await b.createCube('bob', 'notes', EMB, ctx());
      const r = rec('alice secret', { embedding: unit(0, 1, 0, 0) });
      await a.insertItems({ tenant: 'alice', cube: 'notes' }, [r], ctx());
      const bob = { tenant: 'bob', cube: 'notes' };
      expect(await b.getItems(bob, [r.id])).toEqual([]);
      expect(await b.findIdsBySuffix(bob, r.id.slice(-12), 5)).toEqual([]);
      expect(await b.getTurns(bob, [{ sessionId: 's1', turnIndex: 0 }], {})).toEqual([]);
      expect(await b.sessionTail(bob, 's1', 3)).toEqual([]);
      expect(await b.searchVector(bob, unit(0, 1, 0, 0), {}, 5)).toEqual([]);
      await expect(b.history(bob, r.id)).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('weighs lexical terms by how rare they are in the cube, as BM25 does', async () => {
    const store = await openPglite();
    try {
      await store.createCube('t', 'words', EMB, ctx());
      const scope = { tenant: 't', cube: 'words' };
      const common = rec('coffee in the morning');
      const rare = rec('zeppelin over the harbour');
      const filler = ['coffee beans', 'more coffee', 'coffee again', 'iced coffee'].map((text) => rec(text));
      await store.insertItems(scope, [common, rare, ...filler], ctx());
      const hits = await store.searchLexical(scope, ['coffee', 'zeppelin'], {}, 10, W);
      expect(hits[0]?.id).toBe(rare.id);
      expect(hits).toHaveLength(6);
      expect((hits[0]?.score ?? 0) > (hits.find((h) => h.id === common.id)?.score ?? 0)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('keeps tombstones out of the HNSW index, so they never take a top-k slot', async () => {
    const store = await openPglite();
    try {
      await store.createCube('t', 'big', EMB, ctx());
      const scope = { tenant: 't', cube: 'big' };
      const records = Array.from({ length: 40 }, (_, i) =>
        rec(`item ${i}`, { embedding: unit(1, i / 40, 0, 0) }),
      );
      await store.insertItems(scope, records, ctx());
      for (const r of records.slice(0, 25)) await store.setStatus(scope, r.id, 'deleted', 'delete', ctx());
      const hits = await store.searchVector(scope, unit(1, 0, 0, 0), {}, 10);
      expect(hits.map((h) => h.id)).toEqual(records.slice(25, 35).map((r) => r.id));
    } finally {
      await store.close();
    }
  });

  it("lets the planner use the dimension's partial HNSW index for an unfiltered search", async () => {
    const schema = freshSchema('plan');
    const store = await openPglite({ schema });
    try {
      await store.createCube('t', 'main', EMB, ctx());
      await store.insertItems(
        { tenant: 't', cube: 'main' },
        [rec('x', { embedding: unit(1, 0, 0, 0) })],
        ctx(),
      );
      const plan = await withClient(async (c) => {
        await c.query('BEGIN');
        // Too few rows for the planner to prefer the index by cost; rule the alternatives out.
        await c.query(
          'SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off',
        );
        const cubeKey = (await c.query(`SELECT cube_key FROM ${schema}.cubes`)).rows[0]?.cube_key;
        const explained = await c.query(
          `EXPLAIN ${nearestSql(schema, 4)}`
            .replace(/\$1/g, "'[1,0,0,0]'")
            .replace('$2', String(cubeKey))
            .replace('$3', '10'),
        );
        await c.query('ROLLBACK');
        return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toContain('item_vectors_hnsw_4');
    } finally {
      await store.close();
    }
  });
});

describe('opening Postgres from the library', () => {
  it('openStore picks Postgres for a postgres:// URL and SQLite for a path', async () => {
    const sqlite = await openStore(':memory:');
    expect(sqlite).toBeInstanceOf(SqliteStore);
    await sqlite.close();
    const postgres = await openStore(pglite.url, { postgres: { max: 1, schema: freshSchema('open') } });
    expect(postgres).toBeInstanceOf(PostgresStore);
    await postgres.close();
  });

  it('MemoryOS.open takes a store the caller keeps, and does not close it', async () => {
    const store = await openPglite();
    try {
      const os = await MemoryOS.open({ store, embedder: 'none' });
      const cube = await os.cube('notes');
      const { ids } = await cube.add('the lighthouse keeper logs the weather');
      expect((await cube.search('lighthouse')).map((h) => h.item.id)).toEqual(ids);
      await os.close();
      expect(await store.getCube('default', 'notes')).toMatchObject({ embedderId: 'none' });
    } finally {
      await store.close();
    }
  });

  it('runs the related-words channel on the words table, with the offline model', async () => {
    const store = await openPglite();
    try {
      // warmCubes, as the server opens it: close() must stop the warm-up though the store stays open.
      const os = await MemoryOS.open({ store, embedder: 'local', warmCubes: true });
      const cube = await os.cube('band');
      await cube.add({ content: 'I finally bought a guitar.', speaker: 'Tim' });
      const [hit] = await cube.search('Which instruments?', { channels: ['related'] });
      expect(hit?.item.content).toBe('I finally bought a guitar.');
      expect(hit?.channels.related?.rank).toBe(1);
      await os.close();
      expect(await store.getCube('default', 'band')).toMatchObject({ name: 'band' });
    } finally {
      await store.close();
    }
  });

  it('MemoryOS.open takes a postgres:// URL as its path and hides the password', async () => {
    const os = await MemoryOS.open({ path: pglite.url, embedder: 'none', tenant: 'url-tenant' });
    try {
      expect(os.path).not.toContain(':postgres@');
      expect(os.path).toContain('***');
      const cube = await os.cube('notes');
      const { ids } = await cube.add('stored through a URL');
      expect((await cube.get(ids[0] as string)).content).toBe('stored through a URL');
    } finally {
      await os.close();
    }
  });
});
