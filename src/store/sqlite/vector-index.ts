/**
 * Sign-bit codes of one cube's live vectors (one bit per dimension), scanned by Hamming distance
 * to pick the candidates that the store then rescores exactly. A cache of what SQLite holds,
 * never the source of truth: 64 bytes per 512-d item, so 64 MB at a million items.
 */
export class BinaryVectorIndex {
  /** 32-bit words per code. */
  private readonly words: number;
  private codes: Uint32Array;
  /** item_key of each slot. */
  private keys: Float64Array;
  private live: Uint8Array;
  private readonly slotOf = new Map<number, number>();
  private slots = 0;
  private liveSlots = 0;

  constructor(readonly dimensions: number) {
    this.words = Math.ceil(dimensions / 32);
    this.codes = new Uint32Array(1024 * this.words);
    this.keys = new Float64Array(1024);
    this.live = new Uint8Array(1024);
  }

  /** Live vectors held. */
  get size(): number {
    return this.liveSlots;
  }

  /** Sets an item's vector; null removes it (not live, deleted, or without a vector). */
  set(itemKey: number, vector: Float32Array | null): void {
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
    this.encode(vector, this.codes, slot * this.words);
    if (this.live[slot] === 0) {
      this.live[slot] = 1;
      this.liveSlots++;
    }
  }

  /** Keys of the `count` live items nearest the query by Hamming distance (ties broken by slot). */
  nearest(query: Float32Array, count: number): number[] {
    const { words, codes, live, slots } = this;
    const q = new Uint32Array(words);
    this.encode(query, q, 0);
    const distance = new Uint16Array(slots);
    // Distances run 0..dimensions, so a histogram finds the cut-off without sorting.
    const histogram = new Uint32Array(words * 32 + 1);
    for (let slot = 0; slot < slots; slot++) {
      if (live[slot] === 0) continue;
      const base = slot * words;
      let d = 0;
      let bytes = 0;
      for (let w = 0; w < words; w++) {
        let x = (codes[base + w] as number) ^ (q[w] as number);
        x -= (x >>> 1) & 0x55555555;
        x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
        // Per-byte counts (at most 8 a word) add up across 16 words before a byte could overflow.
        bytes += (x + (x >>> 4)) & 0x0f0f0f0f;
        if ((w & 15) === 15) {
          d += sumBytes(bytes);
          bytes = 0;
        }
      }
      d += sumBytes(bytes);
      distance[slot] = d;
      histogram[d] = (histogram[d] as number) + 1;
    }
    const wanted = Math.min(count, this.liveSlots);
    let cut = 0;
    let below = 0;
    while (below + (histogram[cut] as number) < wanted) below += histogram[cut++] as number;
    let ties = wanted - below;
    const out: number[] = [];
    for (let slot = 0; slot < slots && out.length < wanted; slot++) {
      if (live[slot] === 0) continue;
      const d = distance[slot] as number;
      if (d < cut || (d === cut && ties-- > 0)) out.push(this.keys[slot] as number);
    }
    return out;
  }

  private encode(vector: Float32Array, into: Uint32Array, offset: number): void {
    for (let w = 0; w < this.words; w++) {
      let bits = 0;
      const end = Math.min(32, this.dimensions - w * 32);
      for (let b = 0; b < end; b++) if ((vector[w * 32 + b] as number) > 0) bits |= 1 << b;
      into[offset + w] = bits;
    }
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    const codes = new Uint32Array(capacity * this.words);
    codes.set(this.codes);
    this.codes = codes;
    const keys = new Float64Array(capacity);
    keys.set(this.keys);
    this.keys = keys;
    const live = new Uint8Array(capacity);
    live.set(this.live);
    this.live = live;
  }
}

function sumBytes(x: number): number {
  return (x & 0xff) + ((x >>> 8) & 0xff) + ((x >>> 16) & 0xff) + (x >>> 24);
}
