import path from 'node:path';
import Database from 'better-sqlite3';
import { INDEX_TEXT_SQL } from './rows.js';

/**
 * The full-text index (FTS5) lives in a file of its own beside the store's (`<file>-words`), kept
 * up to date from the store's change log (`index_changes`) rather than in each writing
 * transaction. SQLite lets one writer at a time into a file, and FTS5's insert was the largest
 * share of a bulk load's commit (43% at 1M items); in a file of its own a worker thread writes it
 * on the other core while the writer goes on. The store's file alone holds every item: this file
 * is derived, and rebuilt from the items when it is missing, stale or from another store.
 *
 * Its state row says how far it has read the log (`seq`) and, while it is being built from the
 * items, the last item key taken in (`built_to`; null once built). Each catch-up is one
 * transaction on this file, whose first statement takes its write lock, so any number of
 * connections and processes may catch it up, one at a time, and none repeats another's work.
 */

/** The statements of a catch-up, their schema names filled in (the store's and the word index's). */
export interface WordSql {
  lockState: string;
  readState: string;
  head: string;
  oldest: string;
  deleteAll: string;
  deleteChanged: string;
  insertChanged: string;
  cubeDropped: string;
  deleteOrphans: string;
  chunkEnd: string;
  insertRange: string;
  saveState: string;
}

/** Log entries (or items, while building) taken in per catch-up transaction. */
export const CATCH_UP_BATCH = 2_000;

const TOKENIZER = 'porter unicode61 remove_diacritics 2';

export function wordSql(store: string, words: string): WordSql {
  // An item's entries in the log after `seq` up to the snapshot's head; `item_key <= ?` keeps
  // to the items already built while a build is under way (a NULL key, a whole cube, never matches).
  const changed = `SELECT item_key FROM ${store}.index_changes WHERE seq > ? AND seq <= ? AND words = 1 AND item_key <= ?`;
  const fields = `item_key, ${INDEX_TEXT_SQL}, index_context, index_keys`;
  return {
    // A write first: the transaction holds this file's write lock before it reads the store.
    lockState: `UPDATE ${words}.word_state SET seq = seq RETURNING seq, built_to AS builtTo`,
    readState: `SELECT seq, built_to AS builtTo FROM ${words}.word_state`,
    head: `SELECT coalesce(max(seq), 0) AS seq FROM ${store}.index_changes`,
    oldest: `SELECT coalesce(min(seq), 0) AS seq FROM ${store}.index_changes`,
    deleteAll: `INSERT INTO ${words}.items_fts (items_fts) VALUES ('delete-all')`,
    deleteChanged: `DELETE FROM ${words}.items_fts WHERE rowid IN (${changed})`,
    insertChanged: `INSERT INTO ${words}.items_fts (rowid, text, context, keys) SELECT ${fields} FROM ${store}.items WHERE item_key IN (${changed})`,
    cubeDropped: `SELECT 1 AS found FROM ${store}.index_changes WHERE seq > ? AND seq <= ? AND words = 1 AND item_key IS NULL LIMIT 1`,
    deleteOrphans: `DELETE FROM ${words}.items_fts WHERE rowid IN (SELECT rowid FROM ${words}.items_fts WHERE rowid <= ? EXCEPT SELECT item_key FROM ${store}.items)`,
    chunkEnd: `SELECT max(item_key) AS last FROM (SELECT item_key FROM ${store}.items WHERE item_key > ? ORDER BY item_key LIMIT ?)`,
    insertRange: `INSERT INTO ${words}.items_fts (rowid, text, context, keys) SELECT ${fields} FROM ${store}.items WHERE item_key > ? AND item_key <= ?`,
    saveState: `UPDATE ${words}.word_state SET seq = ?, built_to = ?, seen_head = max(seen_head, ?)`,
  };
}

type Prepare = (sql: string) => Database.Statement;

/**
 * One catch-up transaction: the log entries after the index's `seq` (at most `batch` of them),
 * then, while it is being built, the next `batch` items by key. True when the index is now up to
 * date with the store as this transaction saw it.
 *
 * Self-contained (only its parameters, no imports): the background thread runs this very
 * function from its source text (`catchUpWords.toString()`).
 */
export function catchUpWords(db: Database.Database, prepare: Prepare, sql: WordSql, batch: number): boolean {
  // Most calls find nothing to do: two reads, no write.
  const before = prepare(sql.readState).get() as { seq: number; builtTo: number | null };
  if (before.builtTo === null && before.seq >= (prepare(sql.head).get() as { seq: number }).seq) return true;
  return db.transaction(() => {
    const state = prepare(sql.lockState).get() as { seq: number; builtTo: number | null };
    const head = (prepare(sql.head).get() as { seq: number }).seq;
    const oldest = (prepare(sql.oldest).get() as { seq: number }).seq;
    let seq = state.seq;
    let builtTo = state.builtTo;
    if (seq < oldest - 1) {
      // Entries it never read were pruned: only a build from the items is exact.
      prepare(sql.deleteAll).run();
      seq = head;
      builtTo = 0;
    }
    const upTo = Math.min(head, seq + batch);
    const keyLimit = builtTo ?? Number.MAX_SAFE_INTEGER;
    if (upTo > seq) {
      // Delete then insert: an item's old text leaves, its current text (if it still exists) enters.
      prepare(sql.deleteChanged).run(seq, upTo, keyLimit);
      prepare(sql.insertChanged).run(seq, upTo, keyLimit);
      // A deleted cube names no items: its rows are the index's rows that no item has any more.
      if (prepare(sql.cubeDropped).get(seq, upTo)) prepare(sql.deleteOrphans).run(keyLimit);
    }
    if (builtTo !== null) {
      const last = (prepare(sql.chunkEnd).get(builtTo, batch) as { last: number | null }).last;
      if (last === null) {
        builtTo = null;
      } else {
        prepare(sql.insertRange).run(builtTo, last);
        builtTo = last;
      }
    }
    prepare(sql.saveState).run(upTo, builtTo, head);
    return upTo === head && builtTo === null;
  })();
}

/** The store's word index: the connection that reads and catches it up, and its statements. */
export interface WordIndex {
  db: Database.Database;
  sql: WordSql;
  /** The FTS5 table and the store's items, named for `db`. */
  ftsTable: string;
  itemsTable: string;
  /** The word index's file (null: in memory, attached to the store's own connection). */
  file: string | null;
}

/** The word index's file beside a store's file. */
export const wordFileOf = (storeFile: string): string => `${path.resolve(storeFile)}-words`;

/**
 * The layout of the word index's file (its `user_version`). Derived data needs no migration: a
 * file in another layout is emptied and built again from the items.
 */
const WORD_FILE_LAYOUT = 1;

const inLayout = (db: Database.Database, words: string): boolean =>
  db.pragma(`${words}.user_version`, { simple: true }) === WORD_FILE_LAYOUT;

/** The word index's tables in schema `words`, made anew unless they are there in this layout. */
export function createWordSchema(db: Database.Database, words: string): void {
  if (inLayout(db, words)) return;
  db.exec(`
    DROP TABLE IF EXISTS ${words}.word_state;
    DROP TABLE IF EXISTS ${words}.items_fts;
    CREATE TABLE ${words}.word_state (
      only      INTEGER PRIMARY KEY CHECK (only = 1),
      store_id  TEXT NOT NULL,
      seq       INTEGER NOT NULL,
      built_to  INTEGER,
      -- The newest log entry any catch-up saw: rows may hold text written up to it, past seq.
      seen_head INTEGER NOT NULL DEFAULT 0
    );
    -- Contentless: the text lives in the store's items. Segments merge 8 at a time (schema 9's
    -- reasoning): big cubes are searched through their in-process postings anyway.
    CREATE VIRTUAL TABLE ${words}.items_fts USING fts5 (
      text, context, keys, content = '', contentless_delete = 1, tokenize = '${TOKENIZER}'
    );
    INSERT INTO ${words}.items_fts (items_fts, rank) VALUES ('automerge', 8);
    PRAGMA ${words}.user_version = ${WORD_FILE_LAYOUT};
  `);
}

/**
 * Starts the index over (empty, to be built from the items) unless it belongs to this store and
 * has seen nothing past its log: a file left from another store, or one that took in text a store
 * restored from a backup (or rolled back by a power cut) never had, would answer with other rows.
 */
function adoptWordIndex(db: Database.Database, store: string, words: string, sql: WordSql): void {
  const storeId = (db.prepare(`SELECT id FROM ${store}.store_identity`).get() as { id: string }).id;
  const belongs = (): boolean => {
    const head = (db.prepare(sql.head).get() as { seq: number }).seq;
    const state = db
      .prepare(`SELECT store_id AS storeId, seen_head AS seen FROM ${words}.word_state`)
      .get() as { storeId: string; seen: number } | undefined;
    return state !== undefined && state.storeId === storeId && state.seen <= head;
  };
  // Read without the lock first: an open need not wait for another process's upkeep.
  if (belongs()) return;
  db.transaction(() => {
    // A write first, so the transaction holds this file's lock before it reads anything.
    db.prepare(`UPDATE ${words}.word_state SET seq = seq`).run();
    if (belongs()) return;
    db.prepare(sql.deleteAll).run();
    db.prepare(
      `INSERT OR REPLACE INTO ${words}.word_state (only, store_id, seq, built_to, seen_head) VALUES (1, ?, 0, 0, 0)`,
    ).run(storeId);
  })();
}

/**
 * Opens the word index of a store whose schema is current. A file store's gets a connection of
 * its own, to its own file with the store's attached as `store`: the store's writer begins its
 * transactions IMMEDIATE, which would lock every attached file, and the index's writers must not
 * wait for it. An in-memory store's is attached to the store's connection.
 */
export function openWordIndex(storeDb: Database.Database, storeFile: string): WordIndex {
  if (storeFile === ':memory:') {
    const sql = wordSql('main', 'words');
    storeDb.exec("ATTACH ':memory:' AS words");
    createWordSchema(storeDb, 'words');
    adoptWordIndex(storeDb, 'main', 'words', sql);
    return {
      db: storeDb,
      sql,
      ftsTable: 'words.items_fts',
      itemsTable: 'main.items',
      file: null,
    };
  }
  const file = wordFileOf(storeFile);
  const sql = wordSql('store', 'main');
  const db = new Database(file);
  try {
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    // Derived data: a commit lost to a power cut is caught up again (or rebuilt) from the store.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // Before the store is attached, so IMMEDIATE locks this file only; and only when there is
    // something to make, so an open need not wait for another process's upkeep.
    if (!inLayout(db, 'main')) db.transaction(() => createWordSchema(db, 'main')).immediate();
    db.prepare('ATTACH ? AS store').run(path.resolve(storeFile));
    adoptWordIndex(db, 'store', 'main', sql);
  } catch (err) {
    db.close();
    throw err;
  }
  return { db, sql, ftsTable: 'main.items_fts', itemsTable: 'store.items', file };
}
