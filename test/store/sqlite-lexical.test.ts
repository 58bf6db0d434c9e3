import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec, W } from './conformance.js';

const ctx = () => ({ actor: 'test', now: Date.now() });
const none = { id: 'none', dimensions: 0 };

describe('SqliteStore lexical search', () => {
  it('ranks the full-text index first and still finds a small cube drowned by a big one', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const big = { tenant: 'default', cube: 'big' };
      const small = { tenant: 'default', cube: 'small' };
      await store.createCube('default', 'big', none, ctx());
      await store.createCube('default', 'small', none, ctx());
      await store.insertItems(
        big,
        Array.from({ length: 60 }, (_, i) => rec(`apple apple apple pie ${i}`)),
        ctx(),
      );
      await store.insertItems(
        small,
        Array.from({ length: 8 }, (_, i) => rec(`one apple among many other words here ${i}`)),
        ctx(),
      );
      const [deleted] = await store.searchLexical(big, ['apple'], {}, 1, W);
      await store.setStatus(big, deleted?.id as string, 'deleted', 'delete', ctx());

      for (const scope of [big, small]) {
        const fast = await store.searchLexical(scope, ['apple', 'pie'], {}, 5, W);
        // A narrowing filter that keeps every item takes the joined query: the reference.
        const joined = await store.searchLexical(scope, ['apple', 'pie'], { kinds: ['episode'] }, 5, W);
        expect(fast).toHaveLength(5);
        expect(fast.map((h) => h.score)).toEqual(joined.map((h) => h.score));
        expect(fast.map((h) => h.id)).not.toContain(deleted?.id);
      }
    } finally {
      await store.close();
    }
  });
});
