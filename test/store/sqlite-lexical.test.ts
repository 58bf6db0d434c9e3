import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec, W } from './conformance.js';

const ctx = () => ({ actor: 'test', now: Date.now() });
const none = { id: 'none', dimensions: 0 };
const big = { tenant: 'default', cube: 'big' };
const small = { tenant: 'default', cube: 'small' };
/** A narrowing filter that keeps every item: it takes FTS5's joined query, the reference. */
const KEEP_ALL = { kinds: ['episode' as const] };

async function withCubes(store: SqliteStore): Promise<void> {
  await store.createCube('default', 'big', none, ctx());
  await store.createCube('default', 'small', none, ctx());
}

const scores = (hits: Array<{ score: number }>) => hits.map((h) => h.score);

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
    const store = SqliteStore.open(':memory:');
    try {
      await withCubes(store);
      await store.insertItems(
        small,
        Array.from({ length: 8 }, (_, i) =>
          rec(`one apple among ${i % 2 ? 'many' : 'few'} other words ${i}`),
        ),
        ctx(),
      );
      const alone = await store.searchLexical(small, ['apple', 'many'], {}, 5, W);
      // With one cube in the file, FTS5's statistics are the cube's: the same scores.
      expect(scores(alone)).toEqual(
        scores(await store.searchLexical(small, ['apple', 'many'], KEEP_ALL, 5, W)),
      );

      await store.insertItems(
        big,
        Array.from({ length: 60 }, (_, i) => rec(`apple apple many ${i}`)),
        ctx(),
      );
      const beside = await store.searchLexical(small, ['apple', 'many'], {}, 5, W);
      expect(beside).toEqual(alone);
      // FTS5 counts the other cube's rows: its scores for the same rows moved.
      const joined = await store.searchLexical(small, ['apple', 'many'], KEEP_ALL, 5, W);
      expect(scores(joined)).not.toEqual(scores(alone));
    } finally {
      await store.close();
    }
  });

  it("drops the least recently searched small cube's index past the budget, and rebuilds it with later writes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-lexical-'));
    const file = path.join(dir, 'memcube.db');
    const store = SqliteStore.open(file, { smallLexicalItems: 10 });
    // Same file, default budget: its index of the small cube is never dropped.
    const keeper = SqliteStore.open(file);
    try {
      await withCubes(store);
      for (const scope of [big, small]) {
        await store.insertItems(
          scope,
          Array.from({ length: 8 }, (_, i) => rec(`${scope.cube} note ${i} about the garden`)),
          ctx(),
        );
      }
      const first = await store.searchLexical(small, ['garden'], {}, 10, W);
      expect(first).toEqual(await keeper.searchLexical(small, ['garden'], {}, 10, W));
      expect(store.smallLexicalRowsHeld()).toBe(8);
      // 16 rows would pass the budget of 10: the small cube's index, searched longer ago, goes.
      await store.searchLexical(big, ['garden'], {}, 10, W);
      expect(store.smallLexicalRowsHeld()).toBe(8);

      await store.insertItems(small, [rec('a ninth note: the garden gate')], ctx());
      const again = await store.searchLexical(small, ['garden'], {}, 10, W);
      expect(again).toHaveLength(9);
      expect(again.map((h) => h.id)).toEqual(expect.arrayContaining(first.map((h) => h.id)));
      expect(again).toEqual(await keeper.searchLexical(small, ['garden'], {}, 10, W));
      expect(store.smallLexicalRowsHeld()).toBe(9);
    } finally {
      await store.close();
      await keeper.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
