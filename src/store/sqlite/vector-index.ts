import { grown } from './typed-arrays.js';
import { HammingCodes } from './wasm/hamming.js';

/** Half-open window on the event time, as the store's `from`/`to` filter. */
export interface TimeWindow {
  from?: number;
  to?: number;
}

export interface KeyScore {
  key: number;
  score: number;
}

/**
 * One cube's live vectors twice over: sign-bit codes (one bit per dimension) scanned by Hamming
 * distance for candidates, and int8 copies that rescore those candidates by cosine (within about
 * 0.001 of the float value). A cache of what SQLite holds, never the source of truth: 64 + 512
 * bytes per 512-d item, about 600 MB at a million. Rescoring from sqlite-vec instead would cost
 * ~160 µs per point lookup, 30 ms for 200 candidates.
 */
export class BinaryVectorIndex {
  private readonly codes: HammingCodes;
  private bytes: Int8Array;
  /** Per slot: the int8 step (max |x| / 127) and the float vector's norm. */
  private steps: Float32Array;
  private norms: Float32Array;
  /** item_key of each slot. */
  private keys: Float64Array;
  private live: Uint8Array;
  /** Event time (epoch ms) of each slot's item, for searches within a time window. */
  private times: Float64Array;
  private readonly slotOf = new Map<number, number>();
  private slots = 0;
  private liveSlots = 0;

  constructor(readonly dimensions: number) {
    this.codes = new HammingCodes(dimensions, 1024);
    this.bytes = new Int8Array(1024 * dimensions);
    this.steps = new Float32Array(1024);
    this.norms = new Float32Array(1024);
    this.keys = new Float64Array(1024);
    this.live = new Uint8Array(1024);
    this.times = new Float64Array(1024);
  }

  /** Live vectors held. */
  get size(): number {
    return this.liveSlots;
  }

  /** Sets an item's vector; null removes it (not live, deleted, or without a vector). */
  set(itemKey: number, vector: Float32Array | null, time = 0): void {
    let slot = this.slotOf.get(itemKey);
    if (vector === null) {
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
    this.codes.set(slot, vector);
    this.quantize(vector, slot);
    this.times[slot] = time;
    if (this.live[slot] === 0) {
      this.live[slot] = 1;
      this.liveSlots++;
    }
  }

  /** The `limit` best of the `candidates` Hamming-nearest live items, by cosine, best first. */
  search(query: Float32Array, limit: number, candidates: number, window: TimeWindow = {}): KeyScore[] {
    const { dimensions, bytes } = this;
    let queryNorm = 0;
    for (let i = 0; i < dimensions; i++) queryNorm += (query[i] as number) ** 2;
    queryNorm = Math.sqrt(queryNorm);
    const scored = this.hammingNearest(query, Math.max(limit, candidates), window).map((slot): KeyScore => {
      let dot = 0;
      const base = slot * dimensions;
      for (let i = 0; i < dimensions; i++) dot += (query[i] as number) * (bytes[base + i] as number);
      const norms = (this.norms[slot] as number) * queryNorm;
      return {
        key: this.keys[slot] as number,
        score: norms === 0 ? 0 : (dot * (this.steps[slot] as number)) / norms,
      };
    });
    return scored.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  /** Slots of the `count` live items nearest the query by Hamming distance (ties broken by slot). */
  private hammingNearest(query: Float32Array, count: number, window: TimeWindow): number[] {
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
    const out: number[] = [];
    for (let slot = 0; slot < slots && out.length < wanted; slot++) {
      if (live[slot] === 0) continue;
      const d = distance[slot] as number;
      if (d < cut || (d === cut && ties-- > 0)) out.push(slot);
    }
    return out;
  }

  private quantize(vector: Float32Array, slot: number): void {
    let max = 0;
    let norm = 0;
    for (const x of vector) {
      max = Math.max(max, Math.abs(x));
      norm += x * x;
    }
    const step = max / 127;
    const base = slot * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) {
      this.bytes[base + i] = step === 0 ? 0 : Math.round((vector[i] as number) / step);
    }
    this.steps[slot] = step;
    this.norms[slot] = Math.sqrt(norm);
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    this.codes.resize(capacity);
    this.keys = grown(this.keys, capacity);
    this.bytes = grown(this.bytes, capacity * this.dimensions);
    this.steps = grown(this.steps, capacity);
    this.norms = grown(this.norms, capacity);
    this.live = grown(this.live, capacity);
    this.times = grown(this.times, capacity);
  }
}
