import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/core/ids.js';
import { NO_DERIVED_KEYS } from '../../src/core/types.js';
import {
  ITEM_VERSION_COLUMNS,
  SCHEMA_15_TAG_TRIGGERS,
  SCHEMA_VERSION,
} from '../../src/store/sqlite/migrations.js';
import { INDEX_TEXT_SQL } from '../../src/store/sqlite/rows.js';
import { ORIGINS_OF_SQL, SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { wordFileOf } from '../../src/store/sqlite/word-index.js';
import {
  expectKeysRepairedOnUpgrade,
  expectOnePartyKeysClearedOnUpgrade,
} from '../helpers/context-key-repair.js';
import { ix, rec } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-migrate-'));
const ctx = () => ({ actor: 'test', now: Date.now() });
const four = { tenant: 'default', cube: 'four' };
const three = { tenant: 'default', cube: 'three' };
const words = { tenant: 'default', cube: 'words' };

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const unit = (...xs: number[]) => {
  const norm = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / norm));
};

/** Puts a current database back in the schema-19 layout: the origins index without the end. */
function backToSchema19(file: string): void {
  const db = new Database(file);
  db.exec(`
    DROP INDEX items_origin_of;
    CREATE INDEX items_origin_of ON items (id, cube_key, session_id, speaker, role);
    DELETE FROM schema_migrations WHERE version >= 20;
  `);
  db.close();
}

/** Puts a current database back in the schema-17 layout: no list of sessions to repair. */
function backToSchema17(file: string): void {
  backToSchema19(file);
  const db = new Database(file);
  db.exec(`
    DROP TABLE context_key_repairs;
    DELETE FROM schema_migrations WHERE version >= 18;
  `);
  db.close();
}

/** Puts a current database back in the schema-14 layout: no speaker index, no tag index. */
function backToSchema14(file: string): void {
  backToSchema17(file);
  const db = new Database(file);
  db.exec(`
    DROP TABLE item_tags;
    DROP INDEX items_by_speaker;
    DROP INDEX items_not_active;
    DELETE FROM schema_migrations WHERE version >= 15;
  `);
  db.close();
}

/** Puts a current database back in the schema-12 layout: sessions of hits from an index without speakers. */
function backToSchema12(file: string): void {
  backToSchema14(file);
  const db = new Database(file);
  db.exec(`
    DROP INDEX items_origin_of;
    CREATE INDEX items_session_of ON items (id, cube_key, session_id);
    DELETE FROM schema_migrations WHERE version >= 13;
  `);
  db.close();
}

/**
 * Puts a current database back in the schema-11 layout: the full-text index in the store's own
 * file (the DDL schemas 2 to 11 ran, filled from the items), no change kinds, no identity.
 */
function backToSchema11(file: string): void {
  backToSchema12(file);
  const db = new Database(file);
  db.exec(`
    CREATE VIRTUAL TABLE items_fts USING fts5 (
      text, context, keys, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO items_fts (items_fts, rank) VALUES ('automerge', 8);
    INSERT INTO items_fts (rowid, text, context, keys) SELECT item_key, ${INDEX_TEXT_SQL}, index_context, index_keys FROM items;
    ALTER TABLE index_changes DROP COLUMN words;
    DROP TABLE store_identity;
    DELETE FROM schema_migrations WHERE version >= 12;
  `);
  db.close();
}

/** Puts a current database back in the schema-6 layout: WITHOUT ROWID versions, duplicate check by hash. */
function backToSchema6(file: string): void {
  backToSchema11(file);
  const db = new Database(file);
  db.exec(`
    CREATE TABLE item_versions_v6 (${ITEM_VERSION_COLUMNS}) WITHOUT ROWID;
    INSERT INTO item_versions_v6 SELECT * FROM item_versions;
    DROP TABLE item_versions;
    ALTER TABLE item_versions_v6 RENAME TO item_versions;
    DROP INDEX items_by_session_hash;
    DROP INDEX items_by_cube;
    DROP INDEX items_session_of;
    CREATE INDEX items_by_hash ON items (cube_key, content_hash);
    DELETE FROM schema_migrations WHERE version >= 7;
  `);
  db.close();
}

/**
 * Puts a current database back in the schema-5 layout: vectors in one sqlite-vec table per
 * dimension (the DDL those versions ran), no `item_vectors`, version 6 not recorded. `liveAnyway`
 * items get `live = 1` whatever their status, as schema 5 stored an archived item's vector after
 * a content edit.
 */
function backToSchema5(file: string, liveAnyway: string[]): void {
  backToSchema6(file);
  const db = new Database(file);
  sqliteVec.load(db);
  const rows = db
    .prepare(
      `SELECT v.item_key, v.cube_key, v.live, v.embedding, c.dimensions, i.id FROM item_vectors v
       JOIN cubes c ON c.cube_key = v.cube_key JOIN items i ON i.item_key = v.item_key`,
    )
    .all() as Array<{
    item_key: number;
    cube_key: number;
    live: number;
    embedding: Buffer;
    dimensions: number;
    id: string;
  }>;
  for (const dimensions of new Set(rows.map((r) => r.dimensions))) {
    db.exec(`
      CREATE VIRTUAL TABLE vec_items_${dimensions} USING vec0 (
        item_key INTEGER PRIMARY KEY,
        cube_key INTEGER PARTITION KEY,
        live INTEGER,
        embedding FLOAT[${dimensions}] distance_metric=cosine
      );
    `);
  }
  for (const r of rows) {
    db.prepare(
      `INSERT INTO vec_items_${r.dimensions} (item_key, cube_key, live, embedding) VALUES (?, ?, ?, ?)`,
    ).run(
      BigInt(r.item_key),
      BigInt(r.cube_key),
      BigInt(liveAnyway.includes(r.id) ? 1 : r.live),
      r.embedding,
    );
  }
  db.exec('DROP TABLE item_vectors; DELETE FROM schema_migrations WHERE version >= 6;');
  db.close();
}

describe('SQLite migration 6: vectors into a plain table', () => {
  it('moves every vector of every dimension, live exactly when its item is active', async () => {
    const file = path.join(tmp, 'v5.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'four', { id: 'emb-4', dimensions: 4 }, ctx());
    await store.createCube('default', 'three', { id: 'emb-3', dimensions: 3 }, ctx());
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [near, far, gone, edited] = await store.insertItems(
      four,
      [
        rec('near', { embedding: unit(1, 0.1, 0, 0) }),
        rec('far', { embedding: unit(0, 1, 0, 0) }),
        rec('gone', { embedding: unit(1, 0, 0, 0) }),
        rec('edited', { embedding: unit(1, 0.05, 0, 0) }),
        rec('no vector'),
      ],
      ctx(),
    );
    const [small] = await store.insertItems(three, [rec('small', { embedding: unit(0, 0, 1) })], ctx());
    await store.insertItems(words, [rec('just words')], ctx());
    await store.setStatus(four, gone?.id as string, 'deleted', 'delete', ctx());
    await store.setStatus(four, edited?.id as string, 'archived', 'update', ctx());
    const query = unit(1, 0, 0, 0);
    const before = await store.searchVector(four, query, {}, 10);
    expect(before.map((h) => h.id)).toEqual([near?.id, far?.id]);
    await store.close();

    backToSchema5(file, [edited?.id as string]);
    const migrated = SqliteStore.open(file);
    try {
      expect(await migrated.searchVector(four, query, {}, 10)).toEqual(before);
      expect((await migrated.stats(four)).vectors).toBe(4);
      // Vectors of items not active moved too, not live: a filter on their status still scores them.
      const deleted = await migrated.searchVector(four, query, { statuses: ['deleted'] }, 10);
      expect(deleted.map((h) => h.id)).toEqual([gone?.id]);
      expect(deleted[0]?.score).toBeCloseTo(1, 6);
      const archived = await migrated.searchVector(four, query, { statuses: ['archived'] }, 10);
      expect(archived.map((h) => h.id)).toEqual([edited?.id]);
      const [inThree] = await migrated.searchVector(three, unit(0, 0, 1), {}, 10);
      expect(inThree?.id).toBe(small?.id);
      expect(inThree?.score).toBeCloseTo(1, 6);
      expect((await migrated.stats(words)).vectors).toBe(0);
      expect(await migrated.searchVector(words, query, {}, 10)).toEqual([]);
    } finally {
      await migrated.close();
    }
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE name GLOB 'vec_items_*'").all();
    const version = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v;
    db.close();
    expect(tables).toEqual([]);
    expect(version).toBe(SCHEMA_VERSION);
  });
});

describe('SQLite migration 7: versions in a rowid table, duplicate check keyed by session', () => {
  it('keeps every version, and a repeated turn is still stored once per session', async () => {
    const file = path.join(tmp, 'v6.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const long = `${'a long assistant turn that spills past two kilobytes '.repeat(60)}end`;
    const [first, second] = await store.insertItems(words, [rec('first'), rec(long)], ctx());
    const id = first?.id as string;
    await store.updateItem(
      words,
      id,
      {
        content: {
          content: 'first, edited',
          index: ix('first, edited'),
          derived: NO_DERIVED_KEYS,
          contentHash: contentHash('first, edited'),
          embedding: null,
        },
      },
      ctx(),
    );
    // Edited, so its first version holds the long text itself, not the marker for the item's content.
    await store.updateItem(
      words,
      second?.id as string,
      {
        content: {
          content: 'short now',
          index: ix('short now'),
          derived: NO_DERIVED_KEYS,
          contentHash: contentHash('short now'),
          embedding: null,
        },
      },
      ctx(),
    );
    await store.setStatus(words, second?.id as string, 'archived', 'update', ctx());
    const historyBefore = await store.history(words, id);
    const longBefore = await store.history(words, second?.id as string);
    await store.close();

    backToSchema6(file);
    const migrated = SqliteStore.open(file);
    try {
      expect(await migrated.history(words, id)).toEqual(historyBefore);
      expect(historyBefore.map((v) => v.content)).toEqual(['first', 'first, edited']);
      expect(await migrated.history(words, second?.id as string)).toEqual(longBefore);
      expect(longBefore[0]?.content).toBe(long);
      // Same content: a duplicate in its own session, a new turn in another.
      const [again, elsewhere] = await migrated.insertItems(
        words,
        [rec('first, edited'), rec('first, edited', { sessionId: 's2' })],
        ctx(),
      );
      expect(again).toEqual({ id, created: false });
      expect(elsewhere?.created).toBe(true);
    } finally {
      await migrated.close();
    }
    const db = new Database(file, { readonly: true });
    const versionsSql = (
      db.prepare("SELECT sql FROM sqlite_master WHERE name = 'item_versions'").get() as { sql: string }
    ).sql;
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'")
      .all();
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id FROM items WHERE cube_key = ? AND content_hash = ? AND status = 'active'
         AND kind = ? AND session_id IS ? AND role IS ? AND speaker IS ? LIMIT 1`,
      )
      .all(1, 'h', 'episode', 's1', 'user', null) as Array<{ detail: string }>;
    db.close();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(
      /items_by_session_hash \(cube_key=\? AND session_id=\? AND content_hash=\?\)/,
    );
    expect(indexes).toContainEqual({ name: 'items_by_cube' });
    expect(versionsSql).not.toMatch(/WITHOUT ROWID/i);
    expect(indexes).toContainEqual({ name: 'items_by_session_hash' });
    expect(indexes).not.toContainEqual({ name: 'items_by_hash' });
  });
});

describe('SQLite migration 9: full-text segments merged 8 at a time', () => {
  const automerge = (file: string) => {
    const db = new Database(file, { readonly: true });
    const row = db.prepare("SELECT v FROM items_fts_config WHERE k = 'automerge'").get() as
      | { v: number }
      | undefined;
    db.close();
    return row?.v;
  };

  it('sets automerge on a new database and on an upgraded one, and search finds the same hits', async () => {
    const file = path.join(tmp, 'v8.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    // One transaction each: every insert leaves a segment of its own for FTS5 to merge.
    for (let i = 0; i < 30; i++) {
      await store.insertItems(
        words,
        [rec(`turn ${i} about ${i % 3 === 0 ? 'hiking trails' : 'cooking pasta'}`)],
        ctx(),
      );
    }
    const weights = { text: 1, context: 0.5, keys: 0.5 };
    const before = await store.searchLexical(words, ['hiking', 'trails'], {}, 10, weights);
    await store.close();
    expect(automerge(wordFileOf(file))).toBe(8);
    expect(before).toHaveLength(10);

    // Back to schema 8, with FTS5's default written out (the config table takes no DELETE).
    backToSchema11(file);
    const db = new Database(file);
    db.exec(
      "INSERT INTO items_fts (items_fts, rank) VALUES ('automerge', 4); DROP INDEX items_session_of; DELETE FROM schema_migrations WHERE version >= 9;",
    );
    db.close();
    expect(automerge(file)).toBe(4);

    const migrated = SqliteStore.open(file);
    try {
      expect(await migrated.searchLexical(words, ['hiking', 'trails'], {}, 10, weights)).toEqual(before);
    } finally {
      await migrated.close();
    }
    // Schema 12 moved the index to the word index's file, created with the same setting.
    expect(automerge(wordFileOf(file))).toBe(8);
  });
});

/** The query plan of the origins lookup, as `file`'s schema answers it. */
function originsPlan(file: string): string {
  const check = new Database(file);
  const plan = check.prepare(`EXPLAIN QUERY PLAN ${ORIGINS_OF_SQL}`).all('[]', 1) as Array<{
    detail: string;
  }>;
  check.close();
  return plan.map((p) => p.detail).join(' ');
}

describe('SQLite migration 11: sessions of hits by id from a covering index', () => {
  it('adds the index to an upgraded database, and the session lookup reads only the index', async () => {
    const file = path.join(tmp, 'v10.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [a, b] = await store.insertItems(words, [rec('first', { sessionId: 'x' }), rec('second')], ctx());
    await store.close();
    backToSchema11(file);
    const db = new Database(file);
    db.exec('DROP INDEX items_session_of; DELETE FROM schema_migrations WHERE version >= 11;');
    db.close();

    const migrated = SqliteStore.open(file);
    try {
      const origins = await migrated.originsOf(words, [a?.id as string, b?.id as string]);
      expect(Object.fromEntries(origins)).toEqual({
        [a?.id as string]: { session: 'x', speaker: null, role: 'user' },
        [b?.id as string]: { session: 's1', speaker: null, role: 'user' },
      });
    } finally {
      await migrated.close();
    }
    // Migration 13 replaced the index with one that also holds the speaker.
    expect(originsPlan(file)).toMatch(/COVERING INDEX items_origin_of/);
  });
});

describe('SQLite migration 13: speakers and roles of hits by id from the same covering index', () => {
  it('replaces the sessions-only index, and the lookup reads speakers and roles from the index alone', async () => {
    const file = path.join(tmp, 'v12.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [a, b] = await store.insertItems(
      words,
      [rec('first', { sessionId: 'x', speaker: 'Ann' }), rec('second', { role: 'assistant' })],
      ctx(),
    );
    await store.close();
    backToSchema12(file);
    expect(originsPlan(file)).not.toMatch(/COVERING INDEX/);

    const migrated = SqliteStore.open(file);
    try {
      const origins = await migrated.originsOf(words, [a?.id as string, b?.id as string]);
      expect(Object.fromEntries(origins)).toEqual({
        [a?.id as string]: { session: 'x', speaker: 'Ann', role: 'user' },
        [b?.id as string]: { session: 's1', speaker: null, role: 'assistant' },
      });
    } finally {
      await migrated.close();
    }
    expect(originsPlan(file)).toMatch(/COVERING INDEX items_origin_of/);
    const check = new Database(file, { readonly: true });
    const indexes = check
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'items_%_of'")
      .all();
    check.close();
    expect(indexes).toEqual([{ name: 'items_origin_of' }]);
  });
});

describe('SQLite migration 20: the end of truth of hits by id from the same covering index', () => {
  it('adds the end to the index, and the lookup reads it from the index alone', async () => {
    const file = path.join(tmp, 'v19.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [a, b] = await store.insertItems(words, [rec('first', { sessionId: 'x' }), rec('second')], ctx());
    await store.updateItem(words, a?.id as string, { validTo: Date.parse('2024-06-01T00:00:00Z') }, ctx());
    await store.close();
    backToSchema19(file);
    expect(originsPlan(file)).not.toMatch(/COVERING INDEX/);

    const migrated = SqliteStore.open(file);
    try {
      const origins = await migrated.originsOf(words, [a?.id as string, b?.id as string]);
      expect(Object.fromEntries(origins)).toEqual({
        [a?.id as string]: {
          session: 'x',
          speaker: null,
          role: 'user',
          endsAt: Date.parse('2024-06-01T00:00:00Z'),
        },
        [b?.id as string]: { session: 's1', speaker: null, role: 'user' },
      });
    } finally {
      await migrated.close();
    }
    expect(originsPlan(file)).toMatch(/COVERING INDEX items_origin_of/);
  });
});

describe('SQLite migration 12: the full-text index in a file of its own', () => {
  it('drops the index from the store, builds it in its own file, and search finds the same hits', async () => {
    const file = path.join(tmp, 'v11.db');
    const store = SqliteStore.open(file, { smallLexicalBytes: 0 });
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    await store.insertItems(
      words,
      Array.from({ length: 30 }, (_, i) =>
        rec(`turn ${i} about ${i % 3 === 0 ? 'hiking trails' : 'cooking pasta'}`),
      ),
      ctx(),
    );
    const weights = { text: 1, context: 0.5, keys: 0.5 };
    const before = await store.searchLexical(words, ['hiking', 'trails'], {}, 10, weights);
    await store.close();
    backToSchema11(file);
    fs.rmSync(wordFileOf(file));

    const migrated = SqliteStore.open(file, { smallLexicalBytes: 0 });
    try {
      expect(await migrated.searchLexical(words, ['hiking', 'trails'], {}, 10, weights)).toEqual(before);
    } finally {
      await migrated.close();
    }
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'items_fts%'").all();
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('index_changes');
    db.close();
    expect(tables).toEqual([]);
    expect(columns).toContain('words');
    expect(fs.existsSync(wordFileOf(file))).toBe(true);
  });
});

describe("SQLite migration 15: a speaker's or a tag's rows by their own index", () => {
  it('indexes the tags of the rows already stored, and keeps the index from then on', async () => {
    const file = path.join(tmp, 'v14.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [a] = await store.insertItems(
      words,
      [rec('first', { tags: ['x', 'y'], speaker: 'Ann' }), rec('second', { tags: ['y'] }), rec('third')],
      ctx(),
    );
    await store.close();
    backToSchema14(file);

    const migrated = SqliteStore.open(file);
    const byTag = async (tags: string[]) =>
      (await migrated.listItems(words, { tags }, { limit: 10, order: 'asc' })).items.map((i) => i.content);
    try {
      expect(await byTag(['y'])).toEqual(['first', 'second']);
      expect(await byTag(['x', 'y'])).toEqual(['first']);
      await migrated.updateItem(words, a?.id as string, { tags: ['z'] }, ctx());
      expect(await byTag(['x'])).toEqual([]);
      expect(await byTag(['z'])).toEqual(['first']);
      expect(
        (await migrated.listItems(words, { speakers: ['Ann'] }, { limit: 10, order: 'asc' })).items.map(
          (i) => i.content,
        ),
      ).toEqual(['first']);
    } finally {
      await migrated.close();
    }
    const check = new Database(file, { readonly: true });
    const tags = check.prepare('SELECT tag FROM item_tags ORDER BY tag').pluck().all();
    const speakerIndex = check
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'items_by_speaker'")
      .pluck()
      .all();
    check.close();
    expect(tags).toEqual(['y', 'z']);
    expect(speakerIndex).toEqual(['items_by_speaker']);
  });
});

describe('SQLite migration 16: the tag index kept by the store', () => {
  it("drops schema 15's triggers, keeps the tag rows, and the store keeps them current", async () => {
    const file = path.join(tmp, 'v15.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [a] = await store.insertItems(words, [rec('first', { tags: ['x'] }), rec('second')], ctx());
    await store.close();
    // Back to schema 15: its triggers, the tag rows as it left them.
    backToSchema17(file);
    const old = new Database(file);
    old.exec(
      `${SCHEMA_15_TAG_TRIGGERS}; DROP INDEX items_not_active; DELETE FROM schema_migrations WHERE version >= 16;`,
    );
    old.close();

    const migrated = SqliteStore.open(file);
    try {
      await migrated.updateItem(words, a?.id as string, { tags: ['x', 'w'] }, ctx());
      await migrated.insertItems(words, [rec('third', { tags: ['w'] })], ctx());
    } finally {
      await migrated.close();
    }
    const check = new Database(file, { readonly: true });
    const triggers = check.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all();
    const rows = check
      .prepare(
        'SELECT t.tag, i.content FROM item_tags t JOIN items i ON i.item_key = t.item_key ORDER BY 1, 2',
      )
      .raw()
      .all();
    check.close();
    expect(triggers).toEqual([]);
    expect(rows).toEqual([
      ['w', 'first'],
      ['w', 'third'],
      ['x', 'first'],
    ]);
  });
});

describe("SQLite migration 17: other statuses' rows indexed", () => {
  it('indexes the rows a schema-16 file has archived, and finds them through the index', async () => {
    const file = path.join(tmp, 'v16.db');
    const store = SqliteStore.open(file);
    await store.createCube('default', 'words', { id: 'none', dimensions: 0 }, ctx());
    const [a] = await store.insertItems(words, [rec('first'), rec('second')], ctx());
    await store.setStatus(words, a?.id as string, 'archived', 'delete', ctx());
    await store.close();
    backToSchema17(file);
    const old = new Database(file);
    old.exec('DROP INDEX items_not_active; DELETE FROM schema_migrations WHERE version >= 17;');
    old.close();

    const migrated = SqliteStore.open(file);
    try {
      const archived = await migrated.listItems(
        words,
        { statuses: ['archived'] },
        { limit: 10, order: 'asc' },
      );
      expect(archived.items.map((i) => i.content)).toEqual(['first']);
    } finally {
      await migrated.close();
    }
    const check = new Database(file, { readonly: true });
    const indexed = check
      .prepare(
        "SELECT count(*) FROM items INDEXED BY items_not_active WHERE cube_key = 1 AND status <> 'active'",
      )
      .pluck()
      .get();
    check.close();
    expect(indexed).toBe(1);
  });
});

/** Puts a current database back in the schema-18 layout: one party's sessions not yet listed. */
function backToSchema18(file: string): void {
  backToSchema19(file);
  const db = new Database(file);
  db.exec('DELETE FROM schema_migrations WHERE version >= 19');
  db.close();
}

describe("SQLite migration 19: sessions keyed by one party's own turns", () => {
  it('lists them, and opening a MemoryOS clears their keys', async () => {
    const file = path.join(tmp, 'v18.db');
    await expectOnePartyKeysClearedOnUpgrade(
      async () => SqliteStore.open(file),
      async () => backToSchema18(file),
    );
  });
});

describe('SQLite migration 18: sessions whose context keys an older delete left words in', () => {
  it('lists them, and opening a MemoryOS derives their keys again', async () => {
    const file = path.join(tmp, 'v17.db');
    await expectKeysRepairedOnUpgrade(
      async () => SqliteStore.open(file),
      async () => backToSchema17(file),
    );
  });
});
