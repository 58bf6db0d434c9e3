import Database from 'better-sqlite3';
import type { ScoredId } from '../../src/store/store.js';

/**
 * SQLite FTS5's own ranking of a cube's active rows, read through a connection of its own: the
 * reference the in-process postings are scored against. Its statistics span every cube in the file.
 */
export function fts5Ranking(
  file: string,
  cube: string,
  terms: string[],
  weights: { text: number; context: number; keys: number },
  limit: number,
  sessionIds?: string[],
): ScoredId[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT i.id AS id, -bm25(items_fts, ?, ?, ?) AS score
         FROM items_fts JOIN items i ON i.item_key = items_fts.rowid JOIN cubes c ON c.cube_key = i.cube_key
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
