import { describe, expect, it } from 'vitest';
import { OriginReader } from '../../src/retrieve/origin-reader.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec } from '../store/conformance.js';

describe('OriginReader', () => {
  it('reads each id from the store once and gives the origins of the ids asked that exist', async () => {
    const store = SqliteStore.open(':memory:');
    const scope = { tenant: 'default', cube: 'c' };
    const ctx = { actor: 'test', now: Date.UTC(2024, 0, 1) };
    await store.createCube('default', 'c', { id: 'none', dimensions: 0 }, ctx);
    const ids = (
      await store.insertItems(scope, [rec('a', { speaker: 'Ann' }), rec('b', { speaker: 'Bo' })], ctx)
    ).map((o) => o.id);
    const [a, b] = ids as [string, string];
    const asked: string[][] = [];
    const originsOf = store.originsOf.bind(store);
    store.originsOf = async (s, wanted) => {
      asked.push(wanted);
      return originsOf(s, wanted);
    };
    const reader = new OriginReader(store, scope);
    expect([...(await reader.of([a])).entries()].map(([id, o]) => [id, o.speaker])).toEqual([[a, 'Ann']]);
    const both = await reader.of([b, 'no-such-id', a]);
    expect([...both.keys()]).toEqual([b, a]);
    expect(both.get(b)?.speaker).toBe('Bo');
    expect(asked).toEqual([[a], [b, 'no-such-id']]);
    await store.close();
  });
});
