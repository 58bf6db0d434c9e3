import type pg from 'pg';
import { vocabularyWords } from '../fts-tokens.js';
import type { VocabularyMark, VocabularyPage } from '../store.js';
import { type Db, query } from './sql.js';

/** Items read per batch when listing the words of a cube written before the words table. */
const BACKFILL_BATCH = 1_000;

/**
 * Records the vocabulary words of `texts` (items' indexed text and keys) for a cube, each word
 * once, in the writer's transaction. Writers of a cube hold its row lock, so a cube's words get
 * their positions in commit order and a reader's mark never skips one.
 */
export async function recordWords(
  client: pg.PoolClient,
  s: string,
  cubeKey: number,
  texts: string[],
): Promise<void> {
  const words = vocabularyWords(texts);
  if (words.length === 0) return;
  await query(
    client,
    `INSERT INTO ${s}.cube_words (cube_key, word) SELECT $1, w FROM unnest($2::text[]) WITH ORDINALITY AS t (w, n)
     ORDER BY n ON CONFLICT DO NOTHING`,
    [cubeKey, words],
  );
}

/** Marks a new cube's words as complete: it has no items yet. */
export async function markWordsListed(client: pg.PoolClient, s: string, cubeKey: number): Promise<void> {
  await query(client, `INSERT INTO ${s}.cube_words_listed (cube_key) VALUES ($1) ON CONFLICT DO NOTHING`, [
    cubeKey,
  ]);
}

/**
 * Lists the words of a cube's items stored before the words table existed (schema 3), under the
 * cube's row lock, once: a cube marked listed has all its words recorded.
 */
export async function listWordsOnce(client: pg.PoolClient, s: string, cubeKey: number): Promise<void> {
  const [listed] = await query(client, `SELECT 1 FROM ${s}.cube_words_listed WHERE cube_key = $1`, [cubeKey]);
  if (listed) return;
  let after = 0;
  for (;;) {
    const rows = await query<{ item_key: number; index_text: string; index_keys: string }>(
      client,
      `SELECT item_key, index_text, index_keys FROM ${s}.items WHERE cube_key = $1 AND item_key > $2
       ORDER BY item_key LIMIT ${BACKFILL_BATCH}`,
      [cubeKey, after],
    );
    if (rows.length === 0) break;
    await recordWords(
      client,
      s,
      cubeKey,
      rows.flatMap((r) => [r.index_text, r.index_keys]),
    );
    after = rows.at(-1)?.item_key ?? after;
  }
  await markWordsListed(client, s, cubeKey);
}

/** The cube's words recorded after `since` (all of them without a mark), in the order recorded. */
export async function readWords(
  db: Db,
  s: string,
  cubeKey: number,
  since: VocabularyMark | null,
): Promise<VocabularyPage> {
  // One generation: words are never dropped or renumbered, so a mark from another is read afresh.
  const from = since?.generation === 0 ? since.size : 0;
  const rows = await query<{ word: string; pos: string }>(
    db,
    `SELECT word, pos FROM ${s}.cube_words WHERE cube_key = $1 AND pos > $2 ORDER BY pos`,
    [cubeKey, from],
  );
  const last = rows.at(-1);
  return { generation: 0, size: last ? Number(last.pos) : from, from, words: rows.map((r) => r.word) };
}
