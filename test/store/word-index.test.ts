import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { contentHash } from '../../src/core/ids.js';
import { NO_DERIVED_KEYS } from '../../src/core/types.js';
import { logIndexChange } from '../../src/store/sqlite/cube-indexes.js';
import { prepared } from '../../src/store/sqlite/prepared.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.js';
import { UpkeepThread } from '../../src/store/sqlite/upkeep-thread.js';
import { catchUpWords, createWordSchema, wordFileOf, wordSql } from '../../src/store/sqlite/word-index.js';
import type { InsertOutcome } from '../../src/store/store.js';
import { ix, rec, W } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-words-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ctx = () => ({ actor: 'test', now: Date.now() });
const none = { id: 'none', dimensions: 0 };
const notes = { tenant: 'default', cube: 'notes' };
const other = { tenant: 'default', cube: 'other' };
let files = 0;
const freshFile = () => path.join(tmp, `store-${files++}.db`);

// Cyrillic words stay non-ASCII once folded: only FTS5 knows them, so these searches read the
// word index (and `smallLexicalBytes: 0` sends every small cube's words there).
const FTS5_ONLY = { smallLexicalBytes: 0 };

/** What the word index file holds, read on a connection of its own: its state and its rows' keys. */
function wordFile(file: string): { seq: number; builtTo: number | null; rows: number[]; head: number } {
  const db = new Database(wordFileOf(file), { readonly: true });
  try {
    db.prepare('ATTACH ? AS store').run(file);
    const state = db.prepare('SELECT seq, built_to AS builtTo FROM word_state').get() as {
      seq: number;
      builtTo: number | null;
    };
    const rows = (db.prepare('SELECT rowid FROM items_fts ORDER BY rowid').pluck().all() as number[]).map(
      Number,
    );
    const head = db.prepare('SELECT coalesce(max(seq), 0) FROM store.index_changes').pluck().get() as number;
    return { ...state, rows, head };
  } finally {
    db.close();
  }
}

/** The store's item keys, in order: what the word index must hold once caught up. */
function itemKeys(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT item_key FROM items ORDER BY item_key').pluck().all() as number[];
  } finally {
    db.close();
  }
}

const ids = (hits: Array<{ id: string }>) => hits.map((h) => h.id).sort();

/** Runs SQL on a database file from outside the store, as another process or a tampering hand would. */
function runSql(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Opens the store at `file` again (FTS5 for every search), runs `check`, and closes it. */
async function withReopened(file: string, check: (store: SqliteStore) => Promise<void>): Promise<void> {
  const store = SqliteStore.open(file, FTS5_ONLY);
  try {
    await check(store);
  } finally {
    await store.close();
  }
}

/** `n` records, each the word and a number. */
const numbered = (n: number, word: string) => Array.from({ length: n }, (_, i) => rec(`${word} ${i}`));

/** A store file with a cube 'notes' holding these texts, closed again, and what its insert returned. */
async function notesFile(
  texts: string[],
  options: SqliteStoreOptions = FTS5_ONLY,
): Promise<{ file: string; added: InsertOutcome[] }> {
  const file = freshFile();
  const store = SqliteStore.open(file, options);
  try {
    await store.createCube('default', 'notes', none, ctx());
    return {
      file,
      added: await store.insertItems(
        notes,
        texts.map((t) => rec(t)),
        ctx(),
      ),
    };
  } finally {
    await store.close();
  }
}

const newContent = (content: string) => ({
  content: {
    content,
    contentHash: contentHash(content),
    index: ix(content),
    derived: NO_DERIVED_KEYS,
    embedding: null,
  },
});

describe('the word index in a file of its own', () => {
  it('follows inserts, edits, status changes and a deleted cube, and keeps evidence of nothing else', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    try {
      await store.createCube('default', 'notes', none, ctx());
      await store.createCube('default', 'other', none, ctx());
      const [kept, edited, archived] = await store.insertItems(
        notes,
        [rec('кошка спит на окне'), rec('собака лает во дворе'), rec('кошка ест рыбу')],
        ctx(),
      );
      await store.insertItems(other, [rec('кошка другого куба')], ctx());
      await store.updateItem(notes, edited?.id as string, newContent('кошка ловит мышь'), ctx());
      await store.setStatus(notes, archived?.id as string, 'archived', 'update', ctx());

      expect(ids(await store.searchLexical(notes, ['кошка'], {}, 10, W))).toEqual(
        [kept?.id, edited?.id].sort(),
      );
      // The edit replaced the old text: its words no longer find it.
      expect(await store.searchLexical(notes, ['собака'], {}, 10, W)).toEqual([]);
      expect(ids(await store.searchLexical(notes, ['мышь'], {}, 10, W))).toEqual([edited?.id]);

      await store.deleteCube('default', 'other', ctx());
      await store.catchUpWordIndex();
      // One row per item left, the deleted cube's gone.
      expect(wordFile(file).rows).toEqual(itemKeys(file));
    } finally {
      await store.close();
    }
  });

  it('logs whether an entry changed the words: a status change or an event time does not', async () => {
    const file = freshFile();
    const onFile = SqliteStore.open(file);
    try {
      await onFile.createCube('default', 'notes', none, ctx());
      const [item] = await onFile.insertItems(notes, [rec('a note')], ctx());
      await onFile.setStatus(notes, item?.id as string, 'archived', 'update', ctx());
      await onFile.updateItem(notes, item?.id as string, { validFrom: Date.parse('2024-05-01') }, ctx());
      const db = new Database(file, { readonly: true });
      const kinds = db.prepare('SELECT words FROM index_changes ORDER BY seq').pluck().all();
      db.close();
      expect(kinds).toEqual([1, 0, 0]);
    } finally {
      await onFile.close();
    }
  });

  it('is caught up by the upkeep thread after a bulk insert, with no search asking for it', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    try {
      await store.createCube('default', 'notes', none, ctx());
      // 150 records start the upkeep thread; the next insert is left to it.
      await store.insertItems(notes, numbered(150, 'заметка'), ctx());
      await store.insertItems(notes, numbered(40, 'позже'), ctx());
      const deadline = Date.now() + 20_000;
      let seen = wordFile(file);
      while ((seen.seq < seen.head || seen.rows.length < 190) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = wordFile(file);
      }
      expect(seen.seq).toBe(seen.head);
      expect(seen.rows).toEqual(itemKeys(file));
    } finally {
      await store.close();
    }
  });

  it('is caught up by the writer again once the upkeep thread has failed', async () => {
    const start = UpkeepThread.start;
    let failed: () => void = () => undefined;
    const threadFailed = new Promise<void>((resolve) => {
      failed = resolve;
    });
    // A thread that cannot open its file: it fails at once, as a damaged file would make it.
    const spy = vi.spyOn(UpkeepThread, 'start').mockImplementation((files, onFailure) =>
      start.call(UpkeepThread, { ...files, wordFile: path.join(tmp, 'missing', 'words') }, (err) => {
        onFailure(err);
        failed();
      }),
    );
    const file = freshFile();
    const store = SqliteStore.open(file);
    try {
      await store.createCube('default', 'notes', none, ctx());
      await store.insertItems(notes, numbered(150, 'заметка'), ctx());
      expect(spy).toHaveBeenCalledTimes(1);
      await threadFailed;
      await store.insertItems(notes, [rec('после сбоя')], ctx());
      // No search asked for it: the writer caught the index up itself.
      const seen = wordFile(file);
      expect(seen.seq).toBe(seen.head);
      expect(seen.rows).toEqual(itemKeys(file));
    } finally {
      await store.close();
      spy.mockRestore();
    }
  });

  it('answers a search with every write committed before it, whatever the thread has done', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    try {
      await store.createCube('default', 'notes', none, ctx());
      await store.insertItems(notes, numbered(150, 'заметка'), ctx());
      for (let i = 0; i < 5; i++) {
        const [added] = await store.insertItems(notes, [rec(`новое слово${i}`)], ctx());
        expect(ids(await store.searchLexical(notes, [`слово${i}`], {}, 10, W))).toEqual([added?.id]);
      }
    } finally {
      await store.close();
    }
  });

  it('is rebuilt from the items when its file is lost, or belongs to another store', async () => {
    const {
      file,
      added: [cat],
    } = await notesFile(['кошка спит', 'собака лает']);
    const { file: stranger } = await notesFile(['чужая кошка', 'чужая собака', 'чужая мышь']);

    for (const swap of ['lost', 'foreign'] as const) {
      fs.rmSync(wordFileOf(file), { force: true });
      if (swap === 'foreign') fs.copyFileSync(wordFileOf(stranger), wordFileOf(file));
      const reopened = SqliteStore.open(file, FTS5_ONLY);
      try {
        expect(ids(await reopened.searchLexical(notes, ['кошка'], {}, 10, W))).toEqual([cat?.id]);
        expect(await reopened.searchLexical(notes, ['чужая'], {}, 10, W)).toEqual([]);
        expect(wordFile(file).rows).toEqual(itemKeys(file));
      } finally {
        await reopened.close();
      }
    }
  });

  it("opens, and takes writes, while another process holds the word file's lock", async () => {
    const { file } = await notesFile(['кошка спит'], { checkpoints: 'inline' });
    // Another process in the middle of a long catch-up: it holds the lock well past the busy wait.
    const holder = new Database(wordFileOf(file));
    holder.exec('BEGIN IMMEDIATE');
    holder.exec('UPDATE word_state SET seq = seq');
    let reopened: SqliteStore | undefined;
    try {
      reopened = SqliteStore.open(file, { checkpoints: 'inline' });
      const [added] = await reopened.insertItems(notes, [rec('собака лает')], ctx());
      expect(added?.created).toBe(true);
      expect(reopened.wordIndexError()?.message).toMatch(/locked|busy/i);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    try {
      // Once the lock is free, a search that needs the words catches the index up.
      expect(await reopened.searchLexical(notes, ['собака'], {}, 10, W)).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });

  it('is made anew when its file is in another layout', async () => {
    const {
      file,
      added: [cat],
    } = await notesFile(['кошка спит', 'собака лает']);
    // The first layout, as a build of the same day left it: no layout number, no seen_head.
    runSql(wordFileOf(file), 'ALTER TABLE word_state DROP COLUMN seen_head; PRAGMA user_version = 0');

    await withReopened(file, async (store) => {
      expect(ids(await store.searchLexical(notes, ['кошка'], {}, 10, W))).toEqual([cat?.id]);
      expect(wordFile(file).rows).toEqual(itemKeys(file));
    });
  });

  it('starts over from the items when the log it has not read was pruned', async () => {
    const { file } = await notesFile(Array.from({ length: 6 }, (_, i) => `заметка ${i}`));
    // As if it had stopped reading after the first entry, and a stray row were left in it.
    runSql(
      wordFileOf(file),
      "UPDATE word_state SET seq = 1; INSERT INTO items_fts (rowid, text) VALUES (999, 'заметка лишняя')",
    );
    runSql(file, 'DELETE FROM index_changes WHERE seq <= 3');

    await withReopened(file, async (store) => {
      await store.catchUpWordIndex();
      expect(wordFile(file).rows).toEqual(itemKeys(file));
      expect(await store.searchLexical(notes, ['заметка'], {}, 10, W)).toHaveLength(6);
    });
  });

  it('is rebuilt when it took in text that a store restored from a backup never had', async () => {
    const {
      file,
      added: [note],
    } = await notesFile(['старый текст']);
    const backup = `${file}.backup`;
    fs.copyFileSync(file, backup);
    const backupHead = wordFile(file).head;

    const later = SqliteStore.open(file, FTS5_ONLY);
    await later.updateItem(notes, note?.id as string, newContent('новый текст'), ctx());
    await later.close();
    // As a catch-up cut short by its batch leaves it: the edit's text taken in, its entry not yet read.
    runSql(wordFileOf(file), `UPDATE word_state SET seq = ${backupHead}`);
    fs.copyFileSync(backup, file);

    await withReopened(file, async (restored) => {
      expect(await restored.searchLexical(notes, ['новый'], {}, 10, W)).toEqual([]);
      expect(ids(await restored.searchLexical(notes, ['старый'], {}, 10, W))).toEqual([note?.id]);
    });
  });

  it('holds exactly the current text of every item after any mix of writes and catch-ups (randomised)', async () => {
    // A word index of its own, caught up in tiny batches at random points between the store's
    // writes, and now and then started over as a rebuild: at the end it must hold each item's
    // current text and nothing else. Seeded, so a failure repeats.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const file = freshFile();
    const store = SqliteStore.open(file, { checkpoints: 'inline' });
    const words = new Database(':memory:');
    try {
      const cubes = ['a', 'b', 'c'];
      for (const cube of cubes) await store.createCube('default', cube, none, ctx());
      words.prepare('ATTACH ? AS store').run(file);
      createWordSchema(words, 'main');
      words.exec("INSERT INTO word_state (only, store_id, seq, built_to) VALUES (1, 'test', 0, 0)");
      const sql = wordSql('store', 'main');
      const catchUp = (batch: number) => catchUpWords(words, (q) => prepared(words, q), sql, batch);

      let made = 0;
      const live = new Map<string, { cube: string; token: string }>();
      const retired: string[] = [];
      for (let op = 0; op < 400; op++) {
        const r = random();
        const cube = pick(cubes);
        const scope = { tenant: 'default', cube };
        const mine = [...live].filter(([, v]) => v.cube === cube);
        if (r < 0.45 || mine.length === 0) {
          const records = Array.from({ length: 1 + Math.floor(random() * 4) }, () => rec(`tok${made++}x`));
          await store.insertItems(scope, records, ctx());
          for (const x of records) live.set(x.id, { cube, token: x.content });
        } else if (r < 0.8) {
          const [id, entry] = pick(mine);
          const token = `tok${made++}x`;
          await store.updateItem(scope, id, newContent(token), ctx());
          retired.push(entry.token);
          entry.token = token;
        } else if (r < 0.9) {
          const [id] = pick(mine);
          await store.setStatus(scope, id, 'archived', 'update', ctx()).catch(() => undefined);
        } else if (r < 0.97) {
          // Deleted and made again: SQLite hands the largest deleted item keys out again.
          await store.deleteCube('default', cube, ctx());
          for (const [id, entry] of mine) {
            retired.push(entry.token);
            live.delete(id);
          }
          await store.createCube('default', cube, none, ctx());
        } else {
          words.exec(
            "INSERT INTO items_fts (items_fts) VALUES ('delete-all'); UPDATE word_state SET seq = 0, built_to = 0",
          );
        }
        const steps = Math.floor(random() * 3);
        for (let s = 0; s < steps; s++) catchUp(1 + Math.floor(random() * 4));
      }
      while (!catchUp(3));

      const keyOf = words.prepare('SELECT item_key FROM store.items WHERE id = ?').pluck();
      const match = words
        .prepare('SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid')
        .pluck();
      for (const [id, { token }] of live) expect(match.all(`"${token}"`), token).toEqual([keyOf.get(id)]);
      for (const token of retired) expect(match.all(`"${token}"`), token).toEqual([]);
      expect(words.prepare('SELECT rowid FROM items_fts ORDER BY rowid').pluck().all()).toEqual(
        itemKeys(file),
      );
      expect(retired.length).toBeGreaterThan(50);
    } finally {
      words.close();
      await store.close();
    }
  });

  it('keeps the log entries the word index has not read, however old', () => {
    const db = new Database(':memory:');
    try {
      db.exec(
        'CREATE TABLE index_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, cube_key INTEGER, item_key INTEGER, words INTEGER)',
      );
      for (let i = 0; i < 2_000; i++) logIndexChange(db, 1, i, { keep: 10, wordIndexSeq: () => 1_500 });
      // Pruned at 1,000 (up to 990) and at 2,000 (up to 1,500, where the word index has read).
      expect(db.prepare('SELECT min(seq) FROM index_changes').pluck().get()).toBe(1_501);
    } finally {
      db.close();
    }
  });
});
