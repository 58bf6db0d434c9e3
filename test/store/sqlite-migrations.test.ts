import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-migrate-'));
const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'main' };

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const unit = (...xs: number[]) => {
  const norm = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / norm));
};

/**
 * Puts a current database back in the schema-5 layout: vectors in a sqlite-vec table per
 * dimension (the DDL those versions ran), no `item_vectors`, version 6 not recorded.
 */
function backToSchema5(file: string): void {
  const db = new Database(file);
  sqliteVec.load(db);
  db.exec(`
    CREATE VIRTUAL TABLE vec_items_4 USING vec0 (
      item_key INTEGER PRIMARY KEY,
      cube_key INTEGER PARTITION KEY,
      live INTEGER,
      embedding FLOAT[4] distance_metric=cosine
    );
  `);
  const insert = db.prepare(
    'INSERT INTO vec_items_4 (item_key, cube_key, live, embedding) VALUES (?, ?, ?, ?)',
  );
  const rows = db.prepare('SELECT item_key, cube_key, live, embedding FROM item_vectors').all() as Array<{
    item_key: number;
    cube_key: number;
    live: number;
    embedding: Buffer;
  }>;
  for (const r of rows) insert.run(BigInt(r.item_key), BigInt(r.cube_key), BigInt(r.live), r.embedding);
  db.exec('DROP TABLE item_vectors; DELETE FROM schema_migrations WHERE version >= 6;');
  db.close();
}

describe('SQLite migration 6: vectors into a plain table', () => {
  it('moves every vector with its live flag, so searches and counts are unchanged', async () => {
    const file = path.join(tmp, 'v5.db');
    const store = SqliteStore.open(file);
    await store.createCube(scope.tenant, scope.cube, { id: 'test-emb', dimensions: 4 }, ctx());
    const [near, far, gone] = await store.insertItems(
      scope,
      [
        rec('near', { embedding: unit(1, 0.1, 0, 0) }),
        rec('far', { embedding: unit(0, 1, 0, 0) }),
        rec('gone', { embedding: unit(1, 0, 0, 0) }),
        rec('no vector'),
      ],
      ctx(),
    );
    await store.setStatus(scope, gone?.id as string, 'deleted', 'delete', ctx());
    const query = unit(1, 0, 0, 0);
    const before = await store.searchVector(scope, query, {}, 10);
    expect(before.map((h) => h.id)).toEqual([near?.id, far?.id]);
    await store.close();

    backToSchema5(file);
    const migrated = SqliteStore.open(file);
    try {
      expect(await migrated.searchVector(scope, query, {}, 10)).toEqual(before);
      expect((await migrated.stats(scope)).vectors).toBe(3);
      // The deleted item's vector moved too, flagged not live: a narrowing filter still scores it.
      const deleted = await migrated.searchVector(scope, query, { statuses: ['deleted'] }, 10);
      expect(deleted.map((h) => h.id)).toEqual([gone?.id]);
      expect(deleted[0]?.score).toBeCloseTo(1, 6);
    } finally {
      await migrated.close();
    }
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE name GLOB 'vec_items_*'").all() as Array<{
      name: string;
    }>;
    const version = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v;
    db.close();
    expect(tables).toEqual([]);
    expect(version).toBe(SCHEMA_VERSION);
  });
});
