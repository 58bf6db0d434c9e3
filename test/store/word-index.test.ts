import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { logIndexChange } from '../../src/store/sqlite/cube-indexes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { wordFileOf } from '../../src/store/sqlite/word-index.js';
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
      await store.updateItem(
        notes,
        edited?.id as string,
        {
          content: {
            content: 'кошка ловит мышь',
            contentHash: 'h',
            index: ix('кошка ловит мышь'),
            derived: { dates: [], entities: [], context: null },
            embedding: null,
          },
        },
        ctx(),
      );
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
    const store = SqliteStore.open(':memory:');
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
      await store.close();
    }
  });

  it('is caught up by the upkeep thread after a bulk insert, with no search asking for it', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    try {
      await store.createCube('default', 'notes', none, ctx());
      // 150 records start the upkeep thread; the next insert is left to it.
      await store.insertItems(
        notes,
        Array.from({ length: 150 }, (_, i) => rec(`заметка ${i}`)),
        ctx(),
      );
      await store.insertItems(
        notes,
        Array.from({ length: 40 }, (_, i) => rec(`позже ${i}`)),
        ctx(),
      );
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

  it('answers a search with every write committed before it, whatever the thread has done', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    try {
      await store.createCube('default', 'notes', none, ctx());
      await store.insertItems(
        notes,
        Array.from({ length: 150 }, (_, i) => rec(`заметка ${i}`)),
        ctx(),
      );
      for (let i = 0; i < 5; i++) {
        const [added] = await store.insertItems(notes, [rec(`новое слово${i}`)], ctx());
        expect(ids(await store.searchLexical(notes, [`слово${i}`], {}, 10, W))).toEqual([added?.id]);
      }
    } finally {
      await store.close();
    }
  });

  it('is rebuilt from the items when its file is lost, or belongs to another store', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    await store.createCube('default', 'notes', none, ctx());
    const [cat] = await store.insertItems(notes, [rec('кошка спит'), rec('собака лает')], ctx());
    await store.close();

    const stranger = freshFile();
    const strangerStore = SqliteStore.open(stranger, FTS5_ONLY);
    await strangerStore.createCube('default', 'notes', none, ctx());
    await strangerStore.insertItems(
      notes,
      [rec('чужая кошка'), rec('чужая собака'), rec('чужая мышь')],
      ctx(),
    );
    await strangerStore.close();

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

  it('starts over from the items when the log it has not read was pruned', async () => {
    const file = freshFile();
    const store = SqliteStore.open(file, FTS5_ONLY);
    await store.createCube('default', 'notes', none, ctx());
    await store.insertItems(
      notes,
      Array.from({ length: 6 }, (_, i) => rec(`заметка ${i}`)),
      ctx(),
    );
    await store.close();
    // As if it had stopped reading after the first entry, and a stray row were left in it.
    const words = new Database(wordFileOf(file));
    words.exec(
      "UPDATE word_state SET seq = 1; INSERT INTO items_fts (rowid, text) VALUES (999, 'заметка лишняя')",
    );
    words.close();
    const raw = new Database(file);
    raw.exec('DELETE FROM index_changes WHERE seq <= 3');
    raw.close();

    const reopened = SqliteStore.open(file, FTS5_ONLY);
    try {
      await reopened.catchUpWordIndex();
      expect(wordFile(file).rows).toEqual(itemKeys(file));
      expect(await reopened.searchLexical(notes, ['заметка'], {}, 10, W)).toHaveLength(6);
    } finally {
      await reopened.close();
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
