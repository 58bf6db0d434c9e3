import { describe, expect, it } from 'vitest';
import { ItemLoader } from '../../src/retrieve/item-loader.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec } from '../store/conformance.js';

describe('ItemLoader', () => {
  it('reads each id from the store once, keeps items read another way, and returns them in the order asked', async () => {
    const store = SqliteStore.open(':memory:');
    const scope = { tenant: 'default', cube: 'c' };
    const ctx = { actor: 'test', now: Date.UTC(2024, 0, 1) };
    await store.createCube('default', 'c', { id: 'none', dimensions: 0 }, ctx);
    const ids = (await store.insertItems(scope, [rec('a'), rec('b'), rec('c')], ctx)).map((o) => o.id);
    const [a, b, c] = ids as [string, string, string];
    const asked: string[][] = [];
    const getItems = store.getItems.bind(store);
    store.getItems = async (s, wanted) => {
      asked.push(wanted);
      return getItems(s, wanted);
    };
    const loader = new ItemLoader(store, scope);
    loader.keep(await getItems(scope, [c]));
    expect((await loader.load([b, a])).map((i) => i.content)).toEqual(['b', 'a']);
    expect((await loader.load([c, a, 'no-such-id', b])).map((i) => i.content)).toEqual(['c', 'a', 'b']);
    expect(asked).toEqual([[b, a], ['no-such-id']]);
    await store.close();
  });
});
