import { HammingCodes } from '../hamming/hamming.js';
import { type ClassMasks, EVERY_CLASS } from './item-classes.js';
import { SlotIds } from './slot-ids.js';
import { SlotLookup } from './slot-lookup.js';
import { grown } from './typed-arrays.js';

/** Half-open window on the event time, as the store's `from`/`to` filter. */
export interface TimeWindow {
  from?: number;
  to?: number;
}

/** What the index keeps of a live item. */
export interface VectorEntry {
  /** The item's public id, so hits need no trip to `items`. */
  id: string;
  vector: Float32Array;
  /** Event time (epoch ms). */
  time: number;
  /** The item's role and kind bits (`classBits`), which never change after `add`. */
  classes: number;
}

/**
 * One cube's live vectors as sign-bit codes (one bit per dimension), scanned by Hamming distance
 * for candidates that the store then rescores exactly from the stored floats (`item_vectors`).
 * A cache of what SQLite holds, never the source of truth: per 512-d item 64 bytes of code, 16
 * of id and ~25 of bookkeeping, about 105 MB at a million (int8 copies for rescoring in memory
 * would add 516 bytes per item for the same top 10).
 */
export class BinaryVectorIndex {
  /** Codes, class bits and event times of the slots. */
  private readonly codes: HammingCodes;
  /** item_key of each slot. */
  private keys: Float64Array;
  /** The item id of each slot. */
  private readonly ids = new SlotIds();
  private readonly slotOf = new SlotLookup((slot) => this.keys[slot] as number);
  private slots = 0;
  private liveSlots = 0;

  constructor(readonly dimensions: number) {
    this.codes = new HammingCodes(dimensions, 1024);
    this.keys = new Float64Array(1024);
  }

  /** Live vectors held. */
  get size(): number {
    return this.liveSlots;
  }

  /** Sets an item's vector; null removes it (not live, deleted, or without a vector). */
  set(itemKey: number, entry: VectorEntry | null): void {
    let slot = this.slotOf.get(itemKey);
    if (entry === null) {
      if (slot !== undefined && this.codes.isLive(slot)) {
        this.codes.retire(slot);
        this.liveSlots--;
      }
      return;
    }
    if (slot === undefined) {
      slot = this.slots++;
      if (slot === this.keys.length) this.grow();
      this.keys[slot] = itemKey;
      this.slotOf.set(itemKey, slot);
    }
    if (!this.codes.isLive(slot)) this.liveSlots++;
    this.codes.set(slot, entry.vector, entry.time, entry.classes);
    this.ids.set(slot, entry.id);
  }

  /** The id of an item the index holds. */
  idOf(itemKey: number): string | undefined {
    const slot = this.slotOf.get(itemKey);
    return slot === undefined ? undefined : this.ids.get(slot);
  }

  /**
   * Item keys of the `count` live items (within the window, of the roles and kinds the masks
   * keep) nearest the query by Hamming distance (of equal distances at the cut, the earliest
   * slots); of those, only the `keep` whose codes best match the query's values when `keep` is
   * smaller.
   */
  nearest(
    query: Float32Array,
    count: number,
    window: TimeWindow = {},
    keep = count,
    masks: ClassMasks = EVERY_CLASS,
  ): number[] {
    const nearest = this.codes.nearest(query, this.slots, count, window, [masks.roles, masks.kinds]);
    const found = this.codes.closest(query, nearest, keep);
    return Array.from(found, (slot) => this.keys[slot] as number);
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    this.codes.resize(capacity);
    this.keys = grown(this.keys, capacity);
  }
}
