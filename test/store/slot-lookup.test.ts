import { describe, expect, it } from 'vitest';
import { SlotLookup } from '../../src/store/sqlite/slot-lookup.js';

/** An index's slots as the lookup sees them: each slot's key, appended as an index appends. */
function slots() {
  // As in the indexes, a slot's key reads 0 until it is recorded.
  const keys = new Float64Array(60_000);
  let used = 0;
  const lookup = new SlotLookup((slot) => keys[slot] as number);
  // The key is recorded after the lookup is told: a merge must not read a new slot's key.
  const append = (key: number) => {
    lookup.set(key, used);
    keys[used] = key;
    return used++;
  };
  return { lookup, append };
}

describe('SlotLookup', () => {
  it('finds each key set, forgets removed keys, and a key set again points to its new slot', () => {
    const { lookup, append } = slots();
    const a = append(30);
    const b = append(10);
    append(20);
    expect([lookup.get(30), lookup.get(10), lookup.get(25)]).toEqual([a, b, undefined]);
    lookup.delete(10);
    expect(lookup.get(10)).toBeUndefined();
    const again = append(30);
    expect(lookup.get(30)).toBe(again);
  });

  it('agrees with a Map through 50,000 sets and removals in any key order, across many merges', () => {
    const { lookup, append } = slots();
    const model = new Map<number, number>();
    let state = 11;
    const next = (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    for (let step = 0; step < 50_000; step++) {
      // Keys mostly rise (new items) but often repeat or come back after removal (edits, a rebuild's order).
      const key = next(4) === 0 ? next(step + 1) : step;
      if (next(10) === 0 && model.has(key)) {
        lookup.delete(key);
        model.delete(key);
      } else {
        if (model.has(key)) lookup.delete(key);
        model.set(key, append(key));
      }
      if (step % 997 === 0) {
        for (let probe = 0; probe < 40; probe++) {
          const k = next(step + 2);
          expect(lookup.get(k), `key ${k} at step ${step}`).toBe(model.get(k));
        }
      }
    }
    for (let key = 0; key < 50_000; key++) expect(lookup.get(key)).toBe(model.get(key));
  });
});
