import { describe, expect, it } from 'vitest';
import { newItemId } from '../../src/core/ids.js';
import { SlotIds } from '../../src/store/sqlite/slot-ids.js';

describe('SlotIds', () => {
  it('gives back every id exactly as set: UUIDs kept as bytes, any other id as its string', () => {
    const ids = new SlotIds();
    const set = Array.from({ length: 3000 }, (_, slot) => (slot % 10 === 0 ? `item-${slot}` : newItemId()));
    // Upper-case or malformed UUIDs must not come back folded or reformatted.
    set[7] = '0192F3A4-5B6C-7D8E-9FA0-B1C2D3E4F5A6';
    set[8] = '0192f3a45b6c7d8e9fa0b1c2d3e4f5a6';
    set.forEach((id, slot) => {
      ids.set(slot, id);
    });
    expect(set.map((_, slot) => ids.get(slot))).toEqual(set);
  });

  it('lets a slot change between a UUID and another id', () => {
    const ids = new SlotIds();
    const uuid = newItemId();
    ids.set(5, 'imported-1');
    ids.set(5, uuid);
    expect(ids.get(5)).toBe(uuid);
    ids.set(5, 'imported-2');
    expect(ids.get(5)).toBe('imported-2');
  });
});
