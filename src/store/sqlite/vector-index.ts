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
  /** 32-bit words per code. */
  private readonly words: number;
  private codes: Uint32Array;
  private bytes: Int8Array;
  /** Per slot: the int8 step (max |x| / 127) and the float vector's norm. */
  private steps: Float32Array;
  private norms: Float32Array;
  /** item_key of each slot. */
  private keys: Float64Array;
  private live: Uint8Array;
  private readonly slotOf = new Map<number, number>();
  private slots = 0;
  private liveSlots = 0;

  constructor(readonly dimensions: number) {
    this.words = Math.ceil(dimensions / 32);
    this.codes = new Uint32Array(1024 * this.words);
    this.bytes = new Int8Array(1024 * dimensions);
    this.steps = new Float32Array(1024);
    this.norms = new Float32Array(1024);
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
    this.quantize(vector, slot);
    if (this.live[slot] === 0) {
      this.live[slot] = 1;
      this.liveSlots++;
    }
  }

  /** The `limit` best of the `candidates` Hamming-nearest live items, by cosine, best first. */
  search(query: Float32Array, limit: number, candidates: number): KeyScore[] {
    const { dimensions, bytes } = this;
    let queryNorm = 0;
    for (let i = 0; i < dimensions; i++) queryNorm += (query[i] as number) ** 2;
    queryNorm = Math.sqrt(queryNorm);
    const scored = this.hammingNearest(query, Math.max(limit, candidates)).map((slot): KeyScore => {
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
  private hammingNearest(query: Float32Array, count: number): number[] {
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
      if (d < cut || (d === cut && ties-- > 0)) out.push(slot);
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
    const codes = new Uint32Array(capacity * this.words);
    codes.set(this.codes);
    this.codes = codes;
    const keys = new Float64Array(capacity);
    keys.set(this.keys);
    this.keys = keys;
    const bytes = new Int8Array(capacity * this.dimensions);
    bytes.set(this.bytes);
    this.bytes = bytes;
    const steps = new Float32Array(capacity);
    steps.set(this.steps);
    this.steps = steps;
    const norms = new Float32Array(capacity);
    norms.set(this.norms);
    this.norms = norms;
    const live = new Uint8Array(capacity);
    live.set(this.live);
    this.live = live;
  }
}

function sumBytes(x: number): number {
  return (x & 0xff) + ((x >>> 8) & 0xff) + ((x >>> 16) & 0xff) + (x >>> 24);
}
