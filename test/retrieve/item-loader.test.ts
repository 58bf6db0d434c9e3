import { describe, expect, it } from 'vitest';
import { ItemLoader } from '../../src/retrieve/item-loader.js';
import { recordingReads, storeWithItems } from '../helpers/store-with-items.js';
import { rec } from '../store/conformance.js';

describe('ItemLoader', () => {
  it('reads each id from the store once, keeps items read another way, and returns them in the order asked', async () => {
    const { store, scope, ids } = await storeWithItems([rec('a'), rec('b'), rec('c')]);
    const [a, b, c] = ids as [string, string, string];
    const asked: string[][] = [];
    const getItems = store.getItems.bind(store);
    store.getItems = recordingReads(getItems, asked);
    const loader = new ItemLoader(store, scope);
    loader.keep(await getItems(scope, [c]));
    expect((await loader.load([b, a])).map((i) => i.content)).toEqual(['b', 'a']);
    expect((await loader.load([c, a, 'no-such-id', b])).map((i) => i.content)).toEqual(['c', 'a', 'b']);
    expect(asked).toEqual([[b, a], ['no-such-id']]);
    await store.close();
  });
});
