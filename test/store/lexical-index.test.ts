import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/core/ids.js';
import { ftsTerms } from '../../src/store/fts-tokens.js';
import { logIndexChange } from '../../src/store/sqlite/cube-indexes.js';
import { type IndexedDoc, LexicalIndex } from '../../src/store/sqlite/lexical-index.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.js';
import type { ScoredId, StoreItemFilter } from '../../src/store/store.js';
import { rec } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-lindex-'));
let files = 0;
const freshFile = (): string => path.join(tmp, `lindex-${++files}.db`);
const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'main' };
const noVectors = { id: 'none', dimensions: 0 };
const weights = { text: 1, context: 0.5, keys: 0.5 };
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const SUBJECTS = ['Alice', 'my sister', 'the team', 'Bob', 'our neighbour', 'Caroline'];
const VERBS = ['painted', 'visited', 'is running', 'planned', 'cooked', 'repaired', 'talked about'];
const OBJECTS = [
  'a sunset over the lake',
  'the old bicycle',
  'a café in Zürich',
  'the marathon training plan',
  'ramen for everyone',
  'a self-portrait',
  'the garden fence',
  'gardening and running',
  'the Straße market',
];

/** Sentences with repeated words, varied lengths and a few diacritics, as turns of several sessions. */
function corpus(n: number): Array<{ text: string; context: string; keys: string | undefined; day: number }> {
  return Array.from({ length: n }, (_, i) => {
    const text = `${SUBJECTS[i % 6]} ${VERBS[i % 7]} ${OBJECTS[i % 8]}${i % 3 === 0 ? ` and then ${OBJECTS[(i * 5) % 8]} again` : ''}.`;
    return {
      text,
      context: i % 4 === 0 ? `What did ${SUBJECTS[(i + 1) % 6]} do?` : '',
      keys: i % 5 === 0 ? SUBJECTS[i % 6] : '',
      day: i % 40,
    };
  });
}

async function filled(
  file: string,
  indexMinItems: number,
  n = 400,
  options: SqliteStoreOptions = {},
): Promise<SqliteStore> {
  const store = SqliteStore.open(file, { indexMinItems, ...options });
  await store.createCube(scope.tenant, scope.cube, noVectors, ctx());
  await store.insertItems(
    scope,
    corpus(n).map((d, i) =>
      rec(`${d.text} (${i})`, {
        index: { text: `${d.text} (${i})`, context: d.context, keys: d.keys ?? '' },
        sessionId: `s${i % 9}`,
        validFrom: START + d.day * DAY,
      }),
    ),
    ctx(),
  );
  return store;
}

const QUERIES = [
  ['alice', 'painted', 'sunset'],
  ['running', 'marathon'],
  ['cafe', 'zurich'],
  ['sister', 'cooked', 'ramen', 'everyone'],
  ['caroline', 'self', 'portrait'],
  ['garden', 'fence', 'repaired', 'neighbour'],
  ['nothing', 'matches', 'this'],
  ['straße', 'market'],
  // A rare word with common ones: the common words can then only re-rank (MaxScore's pruning).
  ['zurich', 'the', 'and', 'then'],
  ['portrait', 'again', 'the'],
];

describe('fts-tokens', () => {
  it('gives the terms FTS5 stores for the same text', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(t, content='', tokenize='porter unicode61 remove_diacritics 2');
             CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance');`);
    const text =
      "Running runners ran; Café naïve Zürich ΟΔΟΣ οδός e-mail don't 3rd 2024-05-01 x² ½ hyper-connectivity relational";
    db.prepare('INSERT INTO f (rowid, t) VALUES (1, ?)').run(text);
    const fts = (db.prepare('SELECT term FROM v ORDER BY offset').all() as Array<{ term: string }>).map(
      (r) => r.term,
    );
    db.close();
    expect(ftsTerms(text)).toEqual(fts);
    expect(ftsTerms('Running Café')).toEqual(['run', 'cafe']);
  });

  it('treats every combining mark as FTS5 does, inside and at the start of a word', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(t, content='', tokenize='porter unicode61 remove_diacritics 2');
             CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance');`);
    const insert = db.prepare('INSERT INTO f (rowid, t) VALUES (?, ?)');
    const terms = db.prepare('SELECT term FROM v WHERE doc = ? ORDER BY offset');
    for (let code = 0x300; code <= 0x36f; code++) {
      const mark = String.fromCodePoint(code);
      const text = `re${mark}sume${mark} cafe${mark}s ${mark}x`;
      insert.run(code, text);
      const fts = (terms.all(code) as Array<{ term: string }>).map((r) => r.term);
      expect(ftsTerms(text), `U+${code.toString(16)}`).toEqual(fts);
    }
    db.close();
  });
});

/** Row `key` of an index: active, of no role, an episode, unless `over` says otherwise. */
const row = (key: number, text: string, over: Partial<IndexedDoc> = {}): IndexedDoc => ({
  id: `item-${key}`,
  text,
  context: '',
  keys: '',
  status: 'active',
  time: 0,
  role: null,
  kind: 'episode',
  ...over,
});

describe('LexicalIndex', () => {
  it('prunes common words to re-ranking only, with the same top as scoring every row', () => {
    const index = new LexicalIndex();
    for (let key = 1; key <= 2_000; key++) {
      // Rare rows differ in length, so their scores differ and the top has one order.
      const rare = key % 400 === 0 ? ` rare${key % 3 === 0 ? ' rare' : ''}${' pad'.repeat(key / 400)}` : '';
      const text = `common words${key % 7 === 0 ? ' common' : ''}${rare} filler ${key}`;
      index.set(key, row(key, text));
    }
    const terms = ['rare', 'common', 'words'];
    const pruned = index.search(terms, weights, 3);
    const full = index.search(terms, weights, 2_000)?.slice(0, 3);
    expect(pruned).toEqual(full);
    expect(pruned?.map((h) => h.id)).toEqual(['item-1200', 'item-400', 'item-800']);
  });

  it('returns active rows unless asked for other statuses, and follows a row that changes status', () => {
    const index = new LexicalIndex();
    const statuses = ['active', 'archived', 'deleted'] as const;
    for (let key = 1; key <= 30; key++) {
      index.set(key, row(key, `garden note${' pad'.repeat(key % 4)} ${key}`, { status: statuses[key % 3] }));
    }
    const keysOf = (hits: ScoredId[] | null) => (hits ?? []).map((h) => Number(h.id.slice('item-'.length)));
    const active = keysOf(index.search(['garden'], weights, 30));
    expect(active.sort((a, b) => a - b)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    const mixed = index.search(['garden'], weights, 30, { statuses: ['archived', 'active'] }) ?? [];
    expect(keysOf(mixed).filter((k) => k % 3 === 2)).toHaveLength(0);
    expect(mixed).toHaveLength(20);
    // Every row counts in the statistics whatever its status, so a row scores the same in any search.
    const archived = index.search(['garden'], weights, 30, { statuses: ['archived'] }) ?? [];
    expect(archived).toEqual(mixed.filter((h) => Number(h.id.slice('item-'.length)) % 3 === 1));
    index.set(4, row(4, 'garden note 4', { status: 'active' }));
    expect(keysOf(index.search(['garden'], weights, 30, { statuses: ['archived'] }))).not.toContain(4);
    expect(keysOf(index.search(['garden'], weights, 30))).toContain(4);
    expect(index.size).toBe(11);
    // The first status has a code of its own, apart from replaced rows; an unknown status finds none.
    index.set(5, row(5, 'garden note 5', { status: 'pending' }));
    expect(keysOf(index.search(['garden'], weights, 30, { statuses: ['pending'] }))).toEqual([5]);
    expect(index.search(['garden'], weights, 30, { statuses: ['bogus' as 'active'] })).toEqual([]);
  });

  it("applies roles and kinds itself: the filtered search is the unfiltered ranking's rows of those classes", () => {
    const index = new LexicalIndex();
    const roles = ['user', 'assistant', null] as const;
    const kinds = ['episode', 'fact'] as const;
    for (let key = 1; key <= 300; key++) {
      index.set(
        key,
        row(key, `violin ${key % 5 === 0 ? 'violin lessons' : 'practice'}${' pad'.repeat(key % 11)} ${key}`, {
          role: roles[key % 3] ?? null,
          kind: kinds[key % 2] ?? 'episode',
        }),
      );
    }
    const terms = ['violin', 'lessons'];
    const all = index.search(terms, weights, 300) ?? [];
    const keyOf = (h: ScoredId) => Number(h.id.slice('item-'.length));
    const assistantFacts = all.filter((h) => keyOf(h) % 3 === 1 && keyOf(h) % 2 === 1);
    expect(index.search(terms, weights, 7, { roles: ['assistant'], kinds: ['fact'] })).toEqual(
      assistantFacts.slice(0, 7),
    );
    // A role filter leaves out the rows without a role, as SQL's `role IN (...)` does.
    const users = index.search(terms, weights, 300, { roles: ['user'] }) ?? [];
    expect(users).toEqual(all.filter((h) => keyOf(h) % 3 === 0));
    expect(users).toHaveLength(100);
  });

  it('narrowed, finds only the rows holding a foundBy term, each scored by every term, with the rows found alone', () => {
    const index = new LexicalIndex();
    for (let key = 1; key <= 60; key++) {
      // Rows 1-4 hold the name (row 1 "garden" too), rows 5-23 "garden" twice, the rest neither.
      const text =
        key <= 4
          ? `lenker${key === 1 ? ' garden' : ''} note ${key}`
          : key <= 23
            ? `garden garden note ${key}`
            : `note ${key}`;
      index.set(key, row(key, text));
    }
    const narrowed = (foundBy: string[], alone: ScoredId[] = []) =>
      index.search(['garden', 'lenker'], weights, 30, { narrowing: { foundBy, alone } });
    const every = index.search(['garden', 'lenker'], weights, 30) ?? [];
    expect(every).toHaveLength(23);
    // "garden" still counts for row 1, which leads the named rows; the 19 "garden" rows are not found.
    expect(narrowed(['lenker'])?.map((h) => h.id)).toEqual(['item-1', 'item-2', 'item-3', 'item-4']);
    expect(narrowed(['lenker'])).toEqual(every.filter((h) => Number(h.id.slice(5)) <= 4));
    // With the rows "garden" finds alone, as the caller ranked them: the full search's top.
    expect(narrowed(['lenker'], index.search(['garden'], weights, 30) ?? [])).toEqual(every);
    // A word the index lacks finds nothing; one that is not a single token leaves it to FTS5 (null).
    expect(narrowed(['absent'])).toEqual([]);
    expect(narrowed(['two words'])).toBeNull();
  });

  it('narrowed, keeps the exact top of the rows found when the other terms are rarer (pruning)', () => {
    const index = new LexicalIndex();
    const holds = (key: number) => key % 10 === 0;
    for (let key = 1; key <= 3_000; key++) {
      const words = [
        holds(key) ? 'lenker' : '',
        key % 7 === 0 ? 'garden' : '',
        key % 1_000 === 0 || key === 1_234 ? 'rare' : '',
        'note',
        ' pad'.repeat(key % 9),
      ];
      index.set(key, row(key, words.join(' ')));
    }
    const terms = ['rare', 'garden', 'note', 'lenker'];
    const full = (index.search(terms, weights, 3_000) ?? []).filter((h) => holds(Number(h.id.slice(5))));
    for (const limit of [1, 5, 20]) {
      const narrowed = index.search(terms, weights, limit, { narrowing: { foundBy: ['lenker'], alone: [] } });
      expect(narrowed).toEqual(full.slice(0, limit));
    }
    expect(full[0]?.id).toBe('item-1000');
  });

  it('edits and removes rows past its key lookup merging, wherever the key falls', () => {
    const index = new LexicalIndex();
    // Keys in no order, as a build by session gives them; 4,097 rows merge the lookup once.
    const keys = Array.from({ length: 9_000 }, (_, i) => ((i * 7_919) % 9_000) + 1);
    for (const key of keys) {
      index.set(key, row(key, `row ${key}`));
    }
    const find = (word: string) => index.search([word], weights, 10)?.map((h) => h.id);
    for (const key of [keys[0], keys[4_096], keys[4_097], keys[8_999]] as number[]) {
      index.set(key, row(key, `edited ${key}`));
      expect(find(String(key))).toEqual([`item-${key}`]);
      index.set(key, null);
      expect(find(String(key))).toEqual([]);
    }
    expect(index.size).toBe(8_996);
    expect(index.rows).toBe(8_996);
  });

  it('keeps the exact top when a common word touches tens of thousands of rows (histogram floor, dropped rows)', () => {
    const index = new LexicalIndex();
    const vocabulary = Array.from({ length: 40 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${i}`);
    let state = 7;
    const next = (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    for (let key = 1; key <= 80_000; key++) {
      // Word i is in about 1/(i+2) of the rows (word 1 in ~27,000), repeated, padded to varied lengths.
      const words = vocabulary.filter((_, i) => next(i + 2) === 0);
      const repeats = words.flatMap((w) => Array.from({ length: 1 + next(3) }, () => w));
      const text = `${repeats.join(' ')}${' pad'.repeat(next(12))}`;
      index.set(key, row(key, text));
    }
    // Queries whose rarest word is common, so the first floor is taken over 20,000+ rows.
    for (const picks of [
      [1, 0],
      [1, 2],
      [2, 1, 0],
      [1, 3, 0],
      [1, 2, 3, 4],
      [5, 1, 0],
      [9, 6, 2, 1],
    ]) {
      const terms = picks.map((i) => vocabulary[i] as string);
      const pruned = index.search(terms, weights, 20);
      const full = index.search(terms, weights, 80_000)?.slice(0, 20);
      expect(pruned, terms.join(' ')).toEqual(full);
    }
  });
});

describe('SqliteStore lexical search through the in-process index', () => {
  it('ranks and scores exactly as FTS5 does, with and without a time window', async () => {
    const file = freshFile();
    const indexed = await filled(file, 0);
    const fts = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY, smallLexicalBytes: 0 });
    try {
      const filters: StoreItemFilter[] = [{}, { from: START + 10 * DAY, to: START + 20 * DAY }];
      let compared = 0;
      for (const filter of filters) {
        for (const terms of QUERIES) {
          for (const w of [weights, { text: 1, context: 2, keys: 0 }]) {
            const a = await indexed.searchLexical(scope, terms, filter, 15, w);
            const b = await fts.searchLexical(scope, terms, filter, 15, w);
            expect(a).toHaveLength(b.length);
            for (const [i, hit] of a.entries()) expect(hit.score).toBeCloseTo(b[i]?.score as number, 9);
            // Equal scores may come in either order, and a tie at the cut-off may keep other ids.
            const cutoff = Math.min(...b.map((h) => h.score)) + 1e-9;
            const above = (hits: typeof a) =>
              hits
                .filter((h) => h.score > cutoff)
                .map((h) => `${h.score.toFixed(9)} ${h.id}`)
                .sort();
            expect(above(a)).toEqual(above(b));
            compared += b.length;
          }
        }
      }
      expect(compared).toBeGreaterThan(100);
      expect(await indexed.searchLexical(scope, ['nothing', 'matches'], {}, 10, weights)).toEqual([]);
    } finally {
      await indexed.close();
      await fts.close();
    }
  });

  it('leaves out of a narrowed search a word only FTS5 reads, rather than sending it all to FTS5', async () => {
    const store = await filled(freshFile(), 0);
    try {
      const [coeur] = await store.insertItems(scope, [rec('Alice saw the Sacré-Cœur (cœur only)')], ctx());
      const words = ['alice', 'painted'];
      const alone = await store.searchLexical(scope, words, {}, 20, weights);
      const narrowed = await store.searchLexical(scope, [...words, 'sunset', 'cœur'], {}, 20, weights, {
        foundBy: ['sunset', 'cœur'],
        alone,
      });
      // As if "cœur" were not asked: the in-process index answers, with the rows "sunset" finds.
      const readable = await store.searchLexical(scope, [...words, 'sunset'], {}, 20, weights, {
        foundBy: ['sunset'],
        alone,
      });
      expect(narrowed).toEqual(readable);
      expect(narrowed.map((h) => h.id)).not.toContain(coeur?.id);
      // Without a narrowing the word is searched, by FTS5.
      const everyRow = await store.searchLexical(scope, ['cœur'], {}, 20, weights);
      expect(everyRow.map((h) => h.id)).toEqual([coeur?.id]);
    } finally {
      await store.close();
    }
  });

  it("sees another connection's adds, edits, deletions and event-time changes", async () => {
    const file = freshFile();
    const reader = await filled(file, 0, 200);
    const writer = SqliteStore.open(file, { indexMinItems: 0 });
    const find = async (terms: string[], filter: StoreItemFilter = {}) =>
      (await reader.searchLexical(scope, terms, filter, 5, weights)).map((h) => h.id);
    try {
      expect(await find(['zeppelin'])).toEqual([]);
      const [added] = await writer.insertItems(scope, [rec('We rode a zeppelin over Lisbon')], ctx());
      const id = added?.id as string;
      expect(await find(['zeppelin'])).toEqual([id]);

      await writer.updateItem(
        scope,
        id,
        {
          content: {
            content: 'We rode a hot-air balloon',
            index: { text: 'We rode a hot-air balloon', context: '', keys: '' },
            derived: { dates: [], entities: [], context: null },
            contentHash: contentHash('We rode a hot-air balloon'),
            embedding: null,
          },
        },
        ctx(),
      );
      expect(await find(['zeppelin'])).toEqual([]);
      expect(await find(['balloon'])).toEqual([id]);

      const window = { from: START + 100 * DAY, to: START + 101 * DAY };
      expect(await find(['balloon'], window)).toEqual([]);
      await writer.updateItem(scope, id, { validFrom: START + 100 * DAY }, ctx());
      expect(await find(['balloon'], window)).toEqual([id]);

      await writer.setStatus(scope, id, 'deleted', 'delete', ctx());
      expect(await find(['balloon'])).toEqual([]);
      await writer.setStatus(scope, id, 'active', 'restore', ctx());
      expect(await find(['balloon'])).toEqual([id]);

      // A turn after it, keyed by its words; a deletion that takes them out of that key.
      const [reply] = await writer.insertItems(
        scope,
        [
          rec('Sounds lovely', {
            index: { text: 'Sounds lovely', context: 'We rode a hot-air balloon', keys: '' },
          }),
        ],
        ctx(),
      );
      expect((await find(['balloon'])).sort()).toEqual([id, reply?.id].sort());
      await writer.setStatus(scope, id, 'deleted', 'delete', ctx(), {
        updates: [{ id: reply?.id as string, context: null }],
        derivedFrom: await writer.sessionStamp(scope, 's1', 0),
      });
      expect(await find(['balloon'])).toEqual([]);
      expect(await find(['lovely'])).toEqual([reply?.id]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('rebuilds when the change log was pruned past what it had read', async () => {
    const file = freshFile();
    const reader = await filled(file, 0, 50);
    const writer = SqliteStore.open(file, { indexMinItems: 0 });
    const raw = new Database(file);
    try {
      expect(await reader.searchLexical(scope, ['zeppelin'], {}, 5, weights)).toEqual([]);
      const [added] = await writer.insertItems(scope, [rec('We rode a zeppelin')], ctx());
      // Other writes push the log on until it is pruned, taking the add's own change with it.
      raw.transaction(() => {
        for (let i = 0; i < 1_000; i++) logIndexChange(raw, 999, null, { keep: 1 });
      })();
      const { n } = raw.prepare('SELECT count(*) AS n FROM index_changes').get() as { n: number };
      expect(n).toBeLessThan(1_000);
      const found = await reader.searchLexical(scope, ['zeppelin'], {}, 5, weights);
      expect(found.map((h) => h.id)).toEqual([added?.id]);
    } finally {
      raw.close();
      await reader.close();
      await writer.close();
    }
  });

  it("scores with the cube's own statistics: another cube in the file changes nothing", async () => {
    const shared = await filled(freshFile(), 0, 200);
    // FTS5 alone, over a file holding only this cube.
    const alone = await filled(freshFile(), Number.POSITIVE_INFINITY, 200, { smallLexicalBytes: 0 });
    try {
      const other = { tenant: 'other', cube: 'main' };
      await shared.createCube(other.tenant, other.cube, noVectors, ctx());
      await shared.insertItems(
        other,
        Array.from({ length: 300 }, (_, i) => rec(`Alice painted again ${i}`)),
        ctx(),
      );
      const terms = ['alice', 'painted', 'sunset', 'again'];
      const scores = async (store: SqliteStore) =>
        (await store.searchLexical(scope, terms, {}, 20, weights)).map((h) => h.score);
      const expected = await scores(alone);
      expect(expected.length).toBe(20);
      for (const [i, score] of (await scores(shared)).entries())
        expect(score).toBeCloseTo(expected[i] as number, 9);
    } finally {
      await shared.close();
      await alone.close();
    }
  });

  it("never returns another cube's items", async () => {
    const file = freshFile();
    const store = await filled(file, 0, 100);
    try {
      const other = { tenant: 'other', cube: 'main' };
      await store.createCube(other.tenant, other.cube, noVectors, ctx());
      const [theirs] = await store.insertItems(other, [rec('Alice painted a sunset over the lake')], ctx());
      const ours = await store.searchLexical(scope, ['alice', 'painted', 'sunset'], {}, 200, weights);
      expect(ours.length).toBeGreaterThan(10);
      expect(ours.map((h) => h.id)).not.toContain(theirs?.id);
      const their = await store.searchLexical(other, ['alice', 'painted', 'sunset'], {}, 200, weights);
      expect(their.map((h) => h.id)).toEqual([theirs?.id]);
    } finally {
      await store.close();
    }
  });
});
