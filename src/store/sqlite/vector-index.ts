import { grown } from './typed-arrays.js';
import { HammingCodes } from './wasm/hamming.js';

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
}

/**
 * One cube's live vectors as sign-bit codes (one bit per dimension), scanned by Hamming distance
 * for candidates that the store then rescores exactly from the stored floats (`item_vectors`).
 * A cache of what SQLite holds, never the source of truth: per 512-d item 64 bytes of code, its
 * id and ~25 bytes of bookkeeping, about 150 MB at a million (int8 copies for rescoring in memory
 * would add 516 bytes per item for the same top 10).
 */
export class BinaryVectorIndex {
  private readonly codes: HammingCodes;
  /** item_key of each slot. */
  private keys: Float64Array;
  /** The item id of each slot. */
  private readonly ids: string[] = [];
  private live: Uint8Array;
  /** Event time (epoch ms) of each slot's item, for searches within a time window. */
  private times: Float64Array;
  private readonly slotOf = new Map<number, number>();
  private slots = 0;
  private liveSlots = 0;

  constructor(readonly dimensions: number) {
    this.codes = new HammingCodes(dimensions, 1024);
    this.keys = new Float64Array(1024);
    this.live = new Uint8Array(1024);
    this.times = new Float64Array(1024);
  }

  /** Live vectors held. */
  get size(): number {
    return this.liveSlots;
  }

  /** Sets an item's vector; null removes it (not live, deleted, or without a vector). */
  set(itemKey: number, entry: VectorEntry | null): void {
    let slot = this.slotOf.get(itemKey);
    if (entry === null) {
      if (slot !== undefined && this.live[slot] === 1) {
        this.live[slot] = 0;
        this.liveSlots--;
      }
      return;
    }
    if (slot === undefined) {
      slot = this.slots++;
      if (slot === this.keys.length) this.grow();
      this.slotOf.set(itemKey, slot);
      this.keys[slot] = itemKey;
    }
    this.codes.set(slot, entry.vector);
    this.ids[slot] = entry.id;
    this.times[slot] = entry.time;
    if (this.live[slot] === 0) {
      this.live[slot] = 1;
      this.liveSlots++;
    }
  }

  /** The id of an item the index holds. */
  idOf(itemKey: number): string | undefined {
    const slot = this.slotOf.get(itemKey);
    return slot === undefined ? undefined : this.ids[slot];
  }

  /**
   * Item keys of the `count` live items (within the window) nearest the query by Hamming
   * distance, in slot order; of equal distances at the cut, the earliest slots.
   */
  nearest(query: Float32Array, count: number, window: TimeWindow = {}): number[] {
    const { slots, times } = this;
    const from = window.from ?? Number.NEGATIVE_INFINITY;
    const to = window.to ?? Number.POSITIVE_INFINITY;
    const windowed = window.from !== undefined || window.to !== undefined;
    // Slots outside the window count as not live for this search.
    const live = windowed
      ? this.live.map((l, slot) =>
          l === 1 && (times[slot] as number) >= from && (times[slot] as number) < to ? 1 : 0,
        )
      : this.live;
    const distance = this.codes.distances(query, slots);
    // Distances run 0..dimensions, so a histogram finds the cut-off without sorting.
    const histogram = new Uint32Array(this.dimensions + 1);
    let eligible = 0;
    for (let slot = 0; slot < slots; slot++) {
      if (live[slot] === 1) {
        const d = distance[slot] as number;
        histogram[d] = (histogram[d] as number) + 1;
        eligible++;
      }
    }
    const wanted = Math.min(count, eligible);
    let cut = 0;
    let below = 0;
    while (below + (histogram[cut] as number) < wanted) below += histogram[cut++] as number;
    let ties = wanted - below;
    const found: number[] = [];
    for (let slot = 0; slot < slots && found.length < wanted; slot++) {
      if (live[slot] === 0) continue;
      const d = distance[slot] as number;
      if (d < cut || (d === cut && ties-- > 0)) found.push(slot);
    }
    return found.map((slot) => this.keys[slot] as number);
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    this.codes.resize(capacity);
    this.keys = grown(this.keys, capacity);
    this.live = grown(this.live, capacity);
    this.times = grown(this.times, capacity);
  }
}
