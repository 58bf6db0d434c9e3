import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { contentHash } from '../../src/core/ids.js';
import { NO_DERIVED_KEYS } from '../../src/core/types.js';
import { filterToSql, RARE_TAG_ROWS, tagToList } from '../../src/store/sqlite/filter-sql.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoreItemFilter } from '../../src/store/store.js';
import { describeAccessConformance } from './access-conformance.js';
import { describeStoreConformance, ix, rec, W } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-store-'));
let files = 0;
const freshFile = (): string => path.join(tmp, `store-${++files}.db`);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describeStoreConformance('sqlite :memory:', async () => SqliteStore.open(':memory:'));
describeStoreConformance('sqlite file', async () => SqliteStore.open(freshFile()));

const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'main' };

describe('SqliteStore specifics', () => {
  it('puts file databases in WAL mode', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file);
    try {
      const probe = new Database(file, { readonly: true });
      try {
        expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        probe.close();
      }
    } finally {
      await store.close();
    }
  });

  it('creates the parent directory of a new database file', async () => {
    const file = path.join(tmp, 'nested', 'deeper', 'memory.db');
    const store = SqliteStore.open(file);
    await store.close();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('persists data across close and reopen, in both durability modes', async () => {
    for (const durability of ['full', 'normal'] as const) {
      const file = freshFile();
      const first = SqliteStore.open(file, { durability });
      await first.createCube('default', 'main', { id: 'test-emb', dimensions: 4 }, ctx());
      const r = rec(`kept across restarts (${durability})`, { embedding: new Float32Array([0, 1, 0, 0]) });
      await first.insertItems(scope, [r], ctx());
      await first.updateItem(scope, r.id, { tags: ['kept'] }, ctx());
      await first.putCachedEmbeddings('emb', [['h', new Float32Array([1, 2, 3])]]);
      await first.close();

      const second = SqliteStore.open(file, { durability });
      try {
        expect(await second.getCube('default', 'main')).toMatchObject({
          embedderId: 'test-emb',
          dimensions: 4,
        });
        const [item] = await second.getItems(scope, [r.id]);
        expect(item).toMatchObject({ content: r.content, tags: ['kept'], version: 2 });
        expect((await second.history(scope, r.id)).map((v) => v.operation)).toEqual(['add', 'update']);
        expect((await second.searchLexical(scope, ['restarts'], {}, 5, W)).map((h) => h.id)).toEqual([r.id]);
        expect((await second.searchVector(scope, new Float32Array([0, 1, 0, 0]), {}, 5))[0]?.id).toBe(r.id);
        expect(Array.from((await second.getCachedEmbeddings('emb', ['h'])).get('h') ?? [])).toEqual([
          1, 2, 3,
        ]);
        expect(second.integrityCheck()).toBe('ok');
      } finally {
        await second.close();
      }
    }
  });

  it('makes new files with 8 KB pages and keeps the page size of an existing file', async () => {
    const fresh = SqliteStore.open(path.join(tmp, 'pages-new.db'));
    expect(fresh.pageSize()).toBe(8192);
    await fresh.close();

    const oldFile = path.join(tmp, 'pages-old.db');
    const raw = new Database(oldFile);
    raw.pragma('page_size = 4096');
    raw.exec('CREATE TABLE earlier (x)');
    raw.close();
    const old = SqliteStore.open(oldFile);
    try {
      expect(old.pageSize()).toBe(4096);
      await old.createCube('default', 'main', { id: 'test-emb', dimensions: 4 }, { actor: 't', now: 1 });
      const [added] = await old.insertItems(
        { tenant: 'default', cube: 'main' },
        [rec('still works', { embedding: new Float32Array([1, 0, 0, 0]) })],
        { actor: 't', now: 2 },
      );
      const hits = await old.searchVector(
        { tenant: 'default', cube: 'main' },
        new Float32Array([1, 0, 0, 0]),
        {},
        1,
      );
      expect(hits.map((h) => h.id)).toEqual([added?.id]);
      expect(old.integrityCheck()).toBe('ok');
    } finally {
      await old.close();
    }
  });

  it('stores no text twice, and reads every item, version and export back in full', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file);
    await store.createCube('default', 'main', { id: 'none', dimensions: 0 }, ctx());
    const question = 'Did you see the heron?';
    const plain = rec('yes, by the lake', {
      index: { text: 'yes, by the lake', context: question, keys: '' },
      derived: { dates: [], entities: [], context: question },
    });
    const spoken = rec('I saw it too', {
      speaker: 'Ann',
      index: { text: 'Ann: I saw it too', context: '', keys: '' },
      derived: { dates: [], entities: ['Ann'], context: 'someone else' },
    });
    const [a, b] = await store.insertItems(scope, [plain, spoken], ctx());
    const id = a?.id as string;
    await store.setStatus(scope, id, 'archived', 'update', ctx());
    await store.setStatus(scope, id, 'active', 'update', ctx());
    await store.updateItem(
      scope,
      id,
      {
        content: {
          content: 'yes, by the river',
          index: ix('yes, by the river'),
          derived: NO_DERIVED_KEYS,
          contentHash: contentHash('yes, by the river'),
          embedding: null,
        },
      },
      ctx(),
    );
    await store.setStatus(scope, id, 'archived', 'update', ctx());

    const history = await store.history(scope, id);
    expect(history.map((v) => v.content)).toEqual([
      'yes, by the lake',
      'yes, by the lake',
      'yes, by the lake',
      'yes, by the river',
      'yes, by the river',
    ]);
    const [item, other] = await store.getItems(scope, [id, b?.id as string]);
    expect(item?.derived).toEqual(NO_DERIVED_KEYS);
    expect(other?.derived).toEqual(spoken.derived);
    const exported = [];
    for await (const bundle of store.exportItems(scope)) exported.push(bundle);
    expect(exported.map((e) => e.index.text)).toEqual(['yes, by the river', 'Ann: I saw it too']);
    expect(exported[0]?.versions).toEqual(history);
    const texts = [];
    for await (const page of store.indexTexts(scope)) texts.push(...page.map((t) => t.text));
    expect(texts).toEqual(['yes, by the river', 'Ann: I saw it too']);
    await store.close();

    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT index_text, derived FROM items ORDER BY item_key').all();
    const versions = db
      .prepare('SELECT content FROM item_versions WHERE item_key = 1 ORDER BY version')
      .all()
      .map((r) => (r as { content: string }).content);
    db.close();
    // The index text that is the content, and a context the index column holds, are not repeated.
    expect(rows).toEqual([
      { index_text: '', derived: JSON.stringify(NO_DERIVED_KEYS) },
      { index_text: 'Ann: I saw it too', derived: JSON.stringify(spoken.derived) },
    ]);
    // Replaced content is kept in the versions that had it; the current content is not copied.
    expect(versions).toEqual(['yes, by the lake', 'yes, by the lake', 'yes, by the lake', '', '']);

    const againFile = freshFile();
    const again = SqliteStore.open(againFile);
    await again.createCube('default', 'main', { id: 'none', dimensions: 0 }, ctx());
    const [first] = await again.insertItems(scope, [plain], ctx());
    expect((await again.getItems(scope, [first?.id as string]))[0]?.derived).toEqual(plain.derived);
    await again.close();
    const rawDb = new Database(againFile, { readonly: true });
    const raw = rawDb.prepare('SELECT derived FROM items').get() as { derived: string };
    rawDb.close();
    expect(JSON.parse(raw.derived)).toEqual({ dates: [], entities: [] });

    // An import stores the same compact rows as the writes it copies.
    const copyFile = freshFile();
    const copy = SqliteStore.open(copyFile);
    await copy.importItems(
      { tenant: 'default', cube: 'copy' },
      exported.map((bundle) => ({ ...bundle, embedding: null })),
      [],
      ctx(),
      { id: 'none', dimensions: 0 },
    );
    expect(await copy.history({ tenant: 'default', cube: 'copy' }, id)).toEqual(history);
    await copy.close();
    const copyDb = new Database(copyFile, { readonly: true });
    const copied = copyDb
      .prepare('SELECT content FROM item_versions WHERE item_key = 1 ORDER BY version')
      .all()
      .map((r) => (r as { content: string }).content);
    copyDb.close();
    expect(copied).toEqual(versions);
  });

  it('reads rows written in full before schema 10, and keeps their history through an update', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file);
    await store.createCube('default', 'main', { id: 'none', dimensions: 0 }, ctx());
    const derived = { dates: [], entities: [], context: 'Where were you?' };
    const [added] = await store.insertItems(
      scope,
      [rec('at the lake', { index: { text: 'at the lake', context: 'Where were you?', keys: '' }, derived })],
      ctx(),
    );
    const id = added?.id as string;
    await store.close();
    // What schema 9 wrote: every text in full.
    const db = new Database(file);
    db.exec(`UPDATE items SET index_text = content, derived = '${JSON.stringify(derived)}';
             UPDATE item_versions SET content = (SELECT content FROM items WHERE items.item_key = item_versions.item_key);`);
    db.close();

    const reopened = SqliteStore.open(file);
    try {
      expect((await reopened.getItems(scope, [id]))[0]?.derived).toEqual(derived);
      const [bundle] = await (async () => {
        const all = [];
        for await (const b of reopened.exportItems(scope)) all.push(b);
        return all;
      })();
      expect(bundle?.index.text).toBe('at the lake');
      await reopened.updateItem(
        scope,
        id,
        {
          content: {
            content: 'at the river',
            index: ix('at the river'),
            derived: NO_DERIVED_KEYS,
            contentHash: contentHash('at the river'),
            embedding: null,
          },
        },
        ctx(),
      );
      expect((await reopened.history(scope, id)).map((v) => v.content)).toEqual([
        'at the lake',
        'at the river',
      ]);
    } finally {
      await reopened.close();
    }
  });

  it("refuses empty content, which it could not tell from the marker for an item's content", async () => {
    const store = SqliteStore.open(freshFile());
    try {
      await store.createCube('default', 'main', { id: 'none', dimensions: 0 }, ctx());
      await expect(store.insertItems(scope, [rec('fine'), rec('')], ctx())).rejects.toMatchObject({
        field: 'content',
      });
      expect((await store.stats(scope)).items).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('reports integrity ok after a mixed workload', async () => {
    const store = SqliteStore.open(freshFile());
    try {
      await store.createCube('default', 'main', { id: 'test-emb', dimensions: 4 }, ctx());
      await store.createCube('default', 'other', { id: 'test-emb-3', dimensions: 3 }, ctx());
      const records = Array.from({ length: 50 }, (_, i) =>
        rec(`workload item ${i}`, { embedding: new Float32Array([i, 1, 0, 0]) }),
      );
      await store.insertItems(scope, records, ctx());
      for (const r of records.slice(0, 10)) {
        const text = `${r.content} edited`;
        await store.updateItem(
          scope,
          r.id,
          {
            content: {
              content: text,
              index: ix(text),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash(text),
              embedding: new Float32Array([0, 0, 1, 0]),
            },
          },
          ctx(),
        );
      }
      for (const r of records.slice(10, 20)) await store.setStatus(scope, r.id, 'deleted', 'delete', ctx());
      await store.replaceVectors(
        scope,
        { id: 'test-emb-3', dimensions: 3 },
        new Map(records.map((r) => [r.id, new Float32Array([1, 0, 0])])),
        ctx(),
      );
      expect(store.integrityCheck()).toBe('ok');
    } finally {
      await store.close();
    }
  });

  it('refuses a database written by a newer schema version', async () => {
    const file = freshFile();
    await SqliteStore.open(file).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(999, Date.now());
    raw.close();
    expect(() => SqliteStore.open(file)).toThrow(expect.objectContaining({ code: 'storage' }));
  });

  it('sees writes made through another connection to the same file', async () => {
    const file = freshFile();
    const writer = SqliteStore.open(file);
    const reader = SqliteStore.open(file);
    try {
      await writer.createCube('default', 'main', { id: 'none', dimensions: 0 }, ctx());
      const r = rec('shared between connections');
      await writer.insertItems(scope, [r], ctx());
      expect((await reader.getItems(scope, [r.id]))[0]?.content).toBe(r.content);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('waits for a migration another process is running instead of re-running it', async () => {
    // Another process (emulated with a raw connection) has begun creating the schema of a new
    // database and holds the write lock. Opening the same file must wait and then see
    // schema version 1, not run migration 1 a second time ("table cubes already exists").
    const file = freshFile();
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const script = `
      const Database = require(${JSON.stringify(driver)});
      const db = new Database(${JSON.stringify(file)});
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      db.exec('BEGIN IMMEDIATE');
      db.exec('CREATE TABLE cubes (cube_key INTEGER PRIMARY KEY)');
      // What opening reads once the schema is current: the word index builds from the items.
      db.exec('CREATE TABLE index_changes (seq INTEGER PRIMARY KEY, cube_key INTEGER, item_key INTEGER, words INTEGER)');
      db.exec('CREATE TABLE items (item_key INTEGER PRIMARY KEY, content, index_text, index_context, index_keys)');
      db.exec("CREATE TABLE store_identity (id TEXT NOT NULL); INSERT INTO store_identity VALUES ('other')");
      db.exec('INSERT INTO schema_migrations (version, applied_at) VALUES (${SCHEMA_VERSION}, 0)');
      process.stdout.write('locked\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
      db.exec('COMMIT');
      db.close();
    `;
    const other = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    other.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => other.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        other.stdout.once('data', () => resolve());
        other.once('close', () => reject(new Error(`helper exited early: ${stderr}`)));
      });
      let opened: SqliteStore | undefined;
      try {
        opened = SqliteStore.open(file);
      } finally {
        await opened?.close();
      }
      expect(opened).toBeDefined();
    } finally {
      if (other.exitCode === null && other.signalCode === null) other.kill('SIGKILL');
      await exited;
    }
  });
});

describe('SqliteStore: the rows of one user, agent, run, speaker or tag', () => {
  it('are found through an index of their own, not by reading the cube', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file);
    await store.createCube(
      'default',
      'main',
      { id: 'none', dimensions: 0 },
      { actor: 'test', now: Date.now() },
    );
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      // The statement shape the store runs for such a filter's rows (its filter SQL, as built).
      const cases: Array<[StoreItemFilter, string]> = [
        [{ userId: 'u1' }, 'USING INDEX items_by_user'],
        [{ agentId: 'a1' }, 'USING INDEX items_by_agent'],
        [{ runId: 'r1', roles: ['user'] }, 'USING INDEX items_by_run'],
        [{ speakers: ['Ann', 'Bo'] }, 'USING INDEX items_by_speaker'],
        [{ tags: ['common', 'rare'] }, 'SEARCH item_tags USING PRIMARY KEY (cube_key=? AND tag=?)'],
        // A session's or a user's few rows, not all that a speaker said, nor a tag's list.
        [{ sessionIds: ['s1'], speakers: ['Ann'], tags: ['rare'] }, 'USING INDEX items_by_session'],
        [{ userId: 'u1', speakers: ['Ann'], tags: ['rare'] }, 'USING INDEX items_by_user'],
        // Other statuses' rows (schema 17), which the in-process indexes do not hold.
        [{ statuses: ['archived'] }, 'INDEX items_not_active (cube_key=? AND status=?)'],
        [
          { statuses: ['archived', 'expired'], kinds: ['fact'] },
          'INDEX items_not_active (cube_key=? AND status=?)',
        ],
        // A session's, a user's or a speaker's rows may be fewer than a status's: their own index.
        [{ statuses: ['archived'], sessionIds: ['s1'] }, 'USING INDEX items_by_session'],
        [{ statuses: ['archived'], userId: 'u1' }, 'USING INDEX items_by_user'],
        [{ statuses: ['archived'], speakers: ['Ann'] }, 'USING INDEX items_by_speaker'],
      ];
      const planOf = (where: { sql: string; params: unknown[] }) =>
        (
          db
            .prepare(
              `EXPLAIN QUERY PLAN SELECT i.item_key FROM items i WHERE i.cube_key = ? AND ${where.sql}`,
            )
            .all(1, ...where.params) as Array<{ detail: string }>
        )
          .map((p) => p.detail)
          .join('; ');
      // What the store counts: 'rare' is held by few rows, 'common' by more than RARE_TAG_ROWS.
      const rowsOf = (tag: string) => (tag === 'rare' ? 3 : RARE_TAG_ROWS + 1);
      for (const [filter, index] of cases) {
        const tag = tagToList(filter, rowsOf, true);
        const plan = planOf(filterToSql(filter, tag === undefined ? undefined : { cubeKey: 1, tag }));
        expect(plan).toContain(index);
        expect(plan).not.toMatch(/SCAN i\b/);
      }
      expect(tagToList({ tags: ['common', 'rare'] }, rowsOf, false)).toBe('rare');
      // A page of a common tag's rows is found by reading rows; all of them, from its list.
      expect(tagToList({ tags: ['common'] }, rowsOf, false)).toBeUndefined();
      expect(tagToList({ tags: ['common'] }, rowsOf, true)).toBe('common');
      expect(tagToList({ tags: ['common'], speakers: ['Ann'] }, rowsOf, true)).toBeUndefined();
      expect(tagToList({ tags: ['rare'], from: 0 }, rowsOf, true)).toBeUndefined();
      // A common tag, and rows already in hand, are checked against each row's own tag list.
      expect(planOf(filterToSql({ tags: ['rare'] }))).toContain('json_each');
      expect(planOf(filterToSql({ tags: ['rare'] }))).not.toContain('item_tags');
    } finally {
      db.close();
    }
  });

  it("lists several other statuses' rows through their index, newest first, page by page", async () => {
    const store = SqliteStore.open(':memory:');
    const scope = { tenant: 'default', cube: 'main' };
    try {
      await store.createCube('default', 'main', { id: 'none', dimensions: 0 }, { actor: 'test', now: 1 });
      const added = await store.insertItems(
        scope,
        ['a', 'b', 'c', 'd', 'e'].map((content) => rec(content)),
        { actor: 'test', now: 2 },
      );
      const ids = added.map((o) => o.id);
      await store.setStatus(scope, ids[0] as string, 'archived', 'update', { actor: 'test', now: 3 });
      await store.setStatus(scope, ids[2] as string, 'expired', 'update', { actor: 'test', now: 3 });
      await store.setStatus(scope, ids[3] as string, 'archived', 'update', { actor: 'test', now: 3 });
      const filter: StoreItemFilter = { statuses: ['archived', 'expired'] };
      // The statement the listing prepares, read back with its plan from the same connection.
      const prepare = vi.spyOn(Database.prototype, 'prepare');
      const first = await store.listItems(scope, filter, { limit: 2, order: 'desc' });
      const at = prepare.mock.calls.findIndex(([sql]) => sql.includes('ORDER BY i.item_key'));
      const connection = prepare.mock.contexts[at] as Database.Database;
      const listing = prepare.mock.calls[at]?.[0] as string;
      prepare.mockRestore();
      const plan = (
        connection.prepare(`EXPLAIN QUERY PLAN ${listing}`).all(1, 'archived', 'expired', 3) as Array<{
          detail: string;
        }>
      ).map((p) => p.detail);
      expect(plan.join('; ')).toContain('INDEX items_not_active (cube_key=? AND status=?)');
      const second = await store.listItems(scope, filter, {
        limit: 2,
        order: 'desc',
        cursor: first.nextCursor,
      });
      expect(first.items.map((i) => i.content)).toEqual(['d', 'c']);
      expect(second.items.map((i) => i.content)).toEqual(['a']);
      expect(second.nextCursor).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('are found from the tag index by the list call and by both channels when few pass the ranking', async () => {
    // 'rare' is the last row's tag, its words and vector alike to the others', so the channels'
    // reads of their best rows (800 deep at most) keep none, and the filter's rows are found in
    // SQL. Taking the row out of the tag index shows which statements read it: those find nothing.
    const file = freshFile();
    const store = SqliteStore.open(file, { indexMinItems: 0 });
    try {
      await store.createCube('default', 'main', { id: 'test-emb', dimensions: 4 }, ctx());
      const records = Array.from({ length: 1000 }, (_, i) =>
        rec(`river walk number ${i}`, {
          tags: i === 999 ? ['rare'] : ['common'],
          embedding: new Float32Array([1, i / 1000, 0, 0]),
        }),
      );
      await store.insertItems(scope, records, ctx());
      const rare = records[999]?.id;
      const query = new Float32Array([1, 0, 0, 0]);
      const found = async () => ({
        listed: (await store.listItems(scope, { tags: ['rare'] }, { limit: 5, order: 'asc' })).items.map(
          (i) => i.id,
        ),
        vector: (await store.searchVector(scope, query, { tags: ['rare'] }, 5)).map((h) => h.id),
        words: (await store.searchLexical(scope, ['river'], { tags: ['rare'] }, 5, W)).map((h) => h.id),
      });
      expect(await found()).toEqual({ listed: [rare], vector: [rare], words: [rare] });
      const other = new Database(file);
      other.exec("DELETE FROM item_tags WHERE tag = 'rare'");
      other.close();
      expect(await found()).toEqual({ listed: [], vector: [], words: [] });
    } finally {
      await store.close();
    }
  });

  it("keep the tag index equal to the rows' tags through add, update, import and cube deletion", async () => {
    const file = freshFile();
    const store = SqliteStore.open(file);
    const copyFile = freshFile();
    const copy = SqliteStore.open(copyFile);
    const other = { tenant: 'default', cube: 'other' };
    const none = { id: 'none', dimensions: 0 };
    try {
      await store.createCube('default', 'main', none, ctx());
      await store.createCube('default', 'other', none, ctx());
      const [a] = await store.insertItems(
        scope,
        [rec('a', { tags: ['x', 'y'] }), rec('b', { tags: ['x'] }), rec('c')],
        ctx(),
      );
      await store.insertItems(other, [rec('d', { tags: ['x'] })], ctx());
      await store.updateItem(scope, a?.id as string, { tags: ['y', 'z'] }, ctx());
      const bundles = [];
      for await (const bundle of store.exportItems(scope)) bundles.push({ ...bundle, embedding: null });
      await copy.importItems(scope, bundles, [], ctx(), none);
      await store.deleteCube('default', 'other', ctx());

      const byTag = async (from: SqliteStore, tags: string[]) =>
        (await from.listItems(scope, { tags }, { limit: 10, order: 'asc' })).items.map((i) => i.content);
      expect(await byTag(store, ['x'])).toEqual(['b']);
      expect(await byTag(store, ['y', 'z'])).toEqual(['a']);
      expect(await byTag(copy, ['z'])).toEqual(['a']);
      expect(await byTag(copy, ['x'])).toEqual(['b']);

      for (const at of [file, copyFile]) {
        const db = new Database(at, { readonly: true });
        try {
          const indexed = db.prepare('SELECT cube_key, tag, item_key FROM item_tags ORDER BY 1, 2, 3').all();
          const held = db
            .prepare(
              'SELECT DISTINCT i.cube_key, t.value AS tag, i.item_key FROM items i, json_each(i.tags) t ORDER BY 1, 2, 3',
            )
            .all();
          // main: a's y and z, b's x; nothing of the deleted cube's d.
          expect(indexed).toHaveLength(3);
          expect(indexed).toEqual(held);
        } finally {
          db.close();
        }
      }
    } finally {
      await store.close();
      await copy.close();
    }
  });
});

describeAccessConformance('sqlite :memory:', async () => {
  const store = SqliteStore.open(':memory:');
  return { store, access: store.accessStore() };
});
