import Database from 'better-sqlite3';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { wordFileOf } from '../../src/store/sqlite/word-index.js';
import type { ScoredId } from '../../src/store/store.js';

/**
 * SQLite FTS5's own ranking of a cube's active rows, read through a connection of its own: the
 * reference the in-process postings are scored against. Its statistics span every cube in the file.
 * `store` is one open on `file`: it catches the word index up first.
 */
export async function fts5Ranking(
  store: SqliteStore,
  file: string,
  cube: string,
  terms: string[],
  weights: { text: number; context: number; keys: number },
  limit: number,
  sessionIds?: string[],
): Promise<ScoredId[]> {
  // The word index's own file, the store's attached, once the store has caught it up.
  await store.catchUpWordIndex();
  const db = new Database(wordFileOf(file), { readonly: true });
  try {
    db.prepare('ATTACH ? AS store').run(file);
    return db
      .prepare(
        `SELECT i.id AS id, -bm25(items_fts, ?, ?, ?) AS score
         FROM items_fts JOIN store.items i ON i.item_key = items_fts.rowid JOIN store.cubes c ON c.cube_key = i.cube_key
         WHERE items_fts MATCH ? AND c.name = ? AND i.status = 'active'
           AND (? IS NULL OR i.session_id IN (SELECT value FROM json_each(?)))
         ORDER BY score DESC LIMIT ?`,
      )
      .all(
        weights.text,
        weights.context,
        weights.keys,
        terms.map((t) => `"${t}"`).join(' OR '),
        cube,
        sessionIds ? 1 : null,
        JSON.stringify(sessionIds ?? []),
        limit,
      ) as ScoredId[];
  } finally {
    db.close();
  }
}
