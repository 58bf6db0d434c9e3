import { describe, expect, it } from 'vitest';
import { OriginReader } from '../../src/retrieve/origin-reader.js';
import { recordingReads, storeWithItems } from '../helpers/store-with-items.js';
import { rec } from '../store/conformance.js';

describe('OriginReader', () => {
  it('reads each id from the store once and gives the origins of the ids asked that exist', async () => {
    const { store, scope, ids } = await storeWithItems([
      rec('a', { speaker: 'Ann' }),
      rec('b', { speaker: 'Bo' }),
    ]);
    const [a, b] = ids as [string, string];
    const asked: string[][] = [];
    store.originsOf = recordingReads(store.originsOf.bind(store), asked);
    const reader = new OriginReader(store, scope);
    expect([...(await reader.of([a])).entries()].map(([id, o]) => [id, o.speaker])).toEqual([[a, 'Ann']]);
    const both = await reader.of([b, 'no-such-id', a]);
    expect([...both.keys()]).toEqual([b, a]);
    expect(both.get(b)?.speaker).toBe('Bo');
    expect(asked).toEqual([[a], [b, 'no-such-id']]);
    await store.close();
  });
});
