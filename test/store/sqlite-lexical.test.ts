import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { contentHash } from '../../src/core/ids.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { InsertOutcome, NewItemRecord } from '../../src/store/store.js';
import { ix, rec, W } from './conformance.js';
import { fts5Ranking } from './fts5-reference.js';

const ctx = () => ({ actor: 'test', now: Date.now() });
const none = { id: 'none', dimensions: 0 };
const big = { tenant: 'default', cube: 'big' };
const small = { tenant: 'default', cube: 'small' };
/** A narrowing filter that keeps every item: for words only FTS5 knows, it takes the joined query. */
const KEEP_ALL = { kinds: ['episode' as const] };

async function withCubes(store: SqliteStore): Promise<void> {
  await store.createCube('default', 'big', none, ctx());
  await store.createCube('default', 'small', none, ctx());
}

const scores = (hits: Array<{ score: number }>) => hits.map((h) => h.score);

/**
 * Both cubes, the big one's rows holding 'garden' too, so that FTS5's file-wide scores of the
 * small cube's rows differ from the small cube's own; `rows` go into the small cube.
 */
async function gardenInBothCubes(store: SqliteStore, rows: NewItemRecord[]): Promise<InsertOutcome[]> {
  await withCubes(store);
  await store.insertItems(big, [rec('garden gate'), rec('garden path')], ctx());
  return store.insertItems(small, rows, ctx());
}

describe('SqliteStore lexical search', () => {
  it('ranks the full-text index first and still finds a small cube drowned by a big one', async () => {
    // Cyrillic words stay non-ASCII once folded, so only FTS5 knows their terms: this is its path.
    const store = SqliteStore.open(':memory:');
    try {
      await withCubes(store);
      await store.insertItems(
        big,
        Array.from({ length: 60 }, (_, i) => rec(`яблоко яблоко яблоко пирог ${i}`)),
        ctx(),
      );
      await store.insertItems(
        small,
        Array.from({ length: 8 }, (_, i) => rec(`одно яблоко среди многих других слов ${i}`)),
        ctx(),
      );
      const [deleted] = await store.searchLexical(big, ['яблоко'], {}, 1, W);
      await store.setStatus(big, deleted?.id as string, 'deleted', 'delete', ctx());

      for (const scope of [big, small]) {
        const fast = await store.searchLexical(scope, ['яблоко', 'пирог'], {}, 5, W);
        const joined = await store.searchLexical(scope, ['яблоко', 'пирог'], KEEP_ALL, 5, W);
        expect(fast).toHaveLength(5);
        expect(scores(fast)).toEqual(scores(joined));
        expect(fast.map((h) => h.id)).not.toContain(deleted?.id);
      }
    } finally {
      await store.close();
    }
  });

  it("scores a small cube's words over its own rows: another cube's rows do not move them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-lexical-'));
    const file = path.join(dir, 'memcube.db');
    const store = SqliteStore.open(file);
    try {
      await withCubes(store);
      await store.insertItems(
        small,
        // 100 rows: a cube under 100 is weighed as one of 100 would be, unlike FTS5 (lexical-floor.test.ts).
        Array.from({ length: 100 }, (_, i) =>
          rec(`one apple among ${i % 2 ? 'many' : 'few'} other ${i % 3 ? '' : 'longer '}words ${i}`, {
            sessionId: i < 4 ? 's1' : 's2',
          }),
        ),
        ctx(),
      );
      const terms = ['apple', 'many'];
      const alone = await store.searchLexical(small, terms, {}, 5, W);
      const inS1 = { sessionIds: ['s1'] };
      const filteredAlone = await store.searchLexical(small, terms, inS1, 5, W);
      // With one cube in the file, FTS5's statistics are the cube's: the same scores.
      expect(scores(alone)).toEqual(scores(await fts5Ranking(store, file, 'small', terms, W, 5)));
      expect(filteredAlone).toHaveLength(4);
      expect(scores(filteredAlone)).toEqual(
        scores(await fts5Ranking(store, file, 'small', terms, W, 5, ['s1'])),
      );

      await store.insertItems(
        big,
        Array.from({ length: 60 }, (_, i) => rec(`apple apple many ${i}`)),
        ctx(),
      );
      expect(await store.searchLexical(small, terms, {}, 5, W)).toEqual(alone);
      expect(await store.searchLexical(small, terms, inS1, 5, W)).toEqual(filteredAlone);
      // FTS5 counts the other cube's rows: its scores for the same rows moved.
      expect(scores(await fts5Ranking(store, file, 'small', terms, W, 5))).not.toEqual(scores(alone));
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the rows a filter selects, whatever their status', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const outcomes = await gardenInBothCubes(
        store,
        Array.from({ length: 6 }, (_, i) => rec(`garden note ${i}`, { sessionId: i < 3 ? 's1' : 's2' })),
      );
      const ids = outcomes.map((o) => o.id);
      await store.setStatus(small, ids[0] as string, 'archived', 'update', ctx());
      const s1 = await store.searchLexical(small, ['garden'], { sessionIds: ['s1'] }, 10, W);
      expect(s1.map((h) => h.id).sort()).toEqual([ids[1], ids[2]].sort());
      const archived = await store.searchLexical(small, ['garden'], { statuses: ['archived'] }, 10, W);
      expect(archived.map((h) => h.id)).toEqual([ids[0]]);
      // The index keeps each row's status and scores other statuses' rows from the cube's postings,
      // as a session's: the same score as within its session.
      const archivedInS1 = await store.searchLexical(
        small,
        ['garden'],
        { statuses: ['archived'], sessionIds: ['s1'] },
        10,
        W,
      );
      expect(archived).toEqual(archivedInS1);
      // Sessions are read from the cube's postings: the unfiltered ranking scores those rows the same.
      const all = await store.searchLexical(small, ['garden'], {}, 10, W);
      const byId = new Map(all.map((h) => [h.id, h.score]));
      for (const hit of s1) expect(hit.score).toBe(byId.get(hit.id));
    } finally {
      await store.close();
    }
  });

  it("ranks active and other statuses together from the cube's postings, the active rows as unfiltered", async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const outcomes = await gardenInBothCubes(
        store,
        Array.from({ length: 6 }, (_, i) => rec(`garden note ${i}${i % 2 ? ' and more words' : ''}`)),
      );
      const ids = outcomes.map((o) => o.id);
      await store.setStatus(small, ids[0] as string, 'archived', 'update', ctx());
      await store.setStatus(small, ids[1] as string, 'expired', 'update', ctx());
      const active = await store.searchLexical(small, ['garden'], {}, 10, W);
      const mixed = await store.searchLexical(small, ['garden'], { statuses: ['active', 'archived'] }, 10, W);
      expect(mixed.map((h) => h.id).sort()).toEqual([ids[0], ...ids.slice(2)].sort());
      // FTS5 would count the other cube's rows: the index scores the active rows as it always does.
      const byId = new Map(mixed.map((h) => [h.id, h.score]));
      for (const hit of active) expect(byId.get(hit.id)).toBe(hit.score);
    } finally {
      await store.close();
    }
  });

  it("follows a row's status changes in a built index, alone and with a tag or a user", async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const outcomes = await gardenInBothCubes(
        store,
        Array.from({ length: 40 }, (_, i) =>
          rec(`garden note ${i}`, i === 7 ? { tags: ['kept'], userId: 'u7' } : {}),
        ),
      );
      const id = outcomes[7]?.id as string;
      const archived = { statuses: ['archived' as const] };
      const found = async () =>
        Promise.all(
          [archived, { ...archived, tags: ['kept'] }, { ...archived, userId: 'u7' }].map(async (filter) =>
            (await store.searchLexical(small, ['garden'], filter, 5, W)).map((h) => h.id),
          ),
        );
      // The index is built by this first search, before any status changes.
      expect(await found()).toEqual([[], [], []]);
      await store.setStatus(small, id, 'archived', 'delete', ctx());
      expect(await found()).toEqual([[id], [id], [id]]);
      expect((await store.searchLexical(small, ['garden'], {}, 50, W)).map((h) => h.id)).not.toContain(id);
      await store.setStatus(small, id, 'active', 'restore', ctx());
      expect(await found()).toEqual([[], [], []]);
      expect((await store.searchLexical(small, ['garden'], {}, 50, W)).map((h) => h.id)).toContain(id);
    } finally {
      await store.close();
    }
  });

  it("ranks a search filtered by role, kind or user from the cube's postings: the unfiltered ranking's rows and scores", async () => {
    const store = SqliteStore.open(':memory:');
    try {
      await withCubes(store);
      // The big cube's rows hold the same words, so FTS5's file-wide scores would differ from these.
      await store.insertItems(
        big,
        Array.from({ length: 30 }, (_, i) => rec(`garden hose ${i}`)),
        ctx(),
      );
      await store.insertItems(
        small,
        Array.from({ length: 400 }, (_, i) =>
          rec(
            i === 7
              ? 'garden note seven, one of the longer lines here'
              : `garden ${i % 3 ? 'note' : 'hose and gate'} ${i}`,
            {
              role: i % 2 ? 'assistant' : 'user',
              userId: i === 7 ? 'rare-user' : null,
            },
          ),
        ),
        ctx(),
      );
      const terms = ['garden', 'hose'];
      const all = await store.searchLexical(small, terms, {}, 400, W);
      const items = new Map(
        (
          await store.getItems(
            small,
            all.map((h) => h.id),
          )
        ).map((i) => [i.id, i]),
      );
      const assistants = all.filter((h) => items.get(h.id)?.role === 'assistant');
      expect(assistants).toHaveLength(200);
      // The best three of the role's rows, scored as the unfiltered search scores them.
      expect(await store.searchLexical(small, terms, { roles: ['assistant'] }, 3, W)).toEqual(
        assistants.slice(0, 3),
      );
      expect(await store.searchLexical(small, terms, { kinds: ['episode'] }, 5, W)).toEqual(all.slice(0, 5));
      // One row of 400, ranked low: none among the ranking's first rows read, so the filter's rows
      // are read by SQL, and still scored as the unfiltered search scores them.
      const rare = all.filter((h) => items.get(h.id)?.userId === 'rare-user');
      expect(all.indexOf(rare[0] as (typeof all)[number])).toBeGreaterThan(80);
      expect(await store.searchLexical(small, terms, { userId: 'rare-user' }, 5, W)).toEqual(rare);
    } finally {
      await store.close();
    }
  });

  it('keeps small cubes within the budget: one that finds no room is searched by FTS5 until another idles', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-lexical-'));
    const file = path.join(dir, 'memcube.db');
    // One byte: the first small cube searched spends it all.
    const store = SqliteStore.open(file, { smallLexicalBytes: 1 });
    const fts5Only = SqliteStore.open(file, { smallLexicalBytes: 0 });
    const now = performance.now();
    const clock = vi.spyOn(performance, 'now');
    try {
      await withCubes(store);
      await store.createCube('default', 'empty', none, ctx());
      await store.insertItems(big, [rec('garden gate'), rec('garden wall, garden bed')], ctx());
      await store.insertItems(
        small,
        Array.from({ length: 8 }, (_, i) => rec(`small note ${i} about the garden`)),
        ctx(),
      );
      const terms = ['garden', 'note'];
      const fts5 = (cube: string) => fts5Ranking(store, file, cube, terms, W, 10);

      // The file's statistics span both cubes, so FTS5's scores differ from the cube's own.
      clock.mockReturnValue(now);
      const own = await store.searchLexical(small, terms, {}, 10, W);
      expect(scores(own)).not.toEqual(scores(await fts5('small')));
      const held = store.smallLexicalBytesHeld();
      expect(held).toBeGreaterThan(0);

      // No room: FTS5 answers, and the small cube's index stays.
      expect(await store.searchLexical(big, terms, {}, 10, W)).toEqual(await fts5('big'));
      expect(store.smallLexicalBytesHeld()).toBe(held);
      expect(await store.searchLexical({ tenant: 'default', cube: 'empty' }, terms, {}, 10, W)).toEqual([]);

      // Five minutes on, the idle index makes room.
      clock.mockReturnValue(now + 5 * 60_000 + 1);
      const bigOwn = await store.searchLexical(big, terms, {}, 10, W);
      expect(scores(bigOwn)).not.toEqual(scores(await fts5('big')));
      expect(store.smallLexicalBytesHeld()).not.toBe(held);
      expect(await store.searchLexical(small, terms, {}, 10, W)).toEqual(await fts5('small'));

      // A budget of 0: FTS5 for every small cube.
      expect(await fts5Only.searchLexical(small, terms, {}, 10, W)).toEqual(await fts5('small'));
      expect(fts5Only.smallLexicalBytesHeld()).toBe(0);
    } finally {
      clock.mockRestore();
      await store.close();
      await fts5Only.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("counts a small cube by its rows, not its index's replaced slots: edits keep it in the budget", async () => {
    const store = SqliteStore.open(':memory:', { indexMinItems: 10 });
    try {
      await withCubes(store);
      const outcomes = await store.insertItems(
        small,
        Array.from({ length: 8 }, (_, i) => rec(`garden note ${i}`)),
        ctx(),
      );
      await store.searchLexical(small, ['garden'], {}, 10, W);
      expect(store.smallLexicalBytesHeld()).toBeGreaterThan(0);
      // Five edits: 13 slots in the index (above the 10 of a small cube), still 8 rows.
      for (const { id } of outcomes.slice(0, 5)) {
        const content = `garden note rewritten ${id}`;
        await store.updateItem(
          small,
          id,
          {
            content: {
              content,
              index: ix(content),
              derived: { dates: [], entities: [], context: null },
              contentHash: contentHash(content),
              embedding: null,
            },
          },
          ctx(),
        );
      }
      expect(await store.searchLexical(small, ['rewritten'], {}, 10, W)).toHaveLength(5);
      expect(store.smallLexicalBytesHeld()).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
