import { HAMMING_WASM_BASE64 } from './hamming-wasm.js';

/** The part of the WebAssembly API used here (the project's TypeScript libs leave it out). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const { Module, Instance, Memory } = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const wasm = new Module(Buffer.from(HAMMING_WASM_BASE64, 'base64'));
const PAGE = 65_536;
/** Class bits are a u16 a slot; a slot set without any has them all. */
const ALL_CLASSES = 0xffff;
const BLOCK = 16;

/** What both passes over the slots read: distances, class bits and masks, times, slot count, the window. */
type SlotScan = [
  dist: number,
  classes: number,
  masks: number,
  times: number,
  count: number,
  windowed: number,
  from: number,
  to: number,
];

interface Kernel {
  distances(codes: number, query: number, count: number, blocks: number, out: number): void;
  histogram(...args: [...SlotScan, hist: number]): number;
  select(...args: [...SlotScan, cut: number, ties: number, wanted: number, out: number]): number;
}

/** Byte offsets of the regions in memory, each on a 16-byte boundary. */
interface Layout {
  distances: number;
  histogram: number;
  classes: number;
  times: number;
  out: number;
  codes: number;
  end: number;
}

const aligned = (bytes: number): number => Math.ceil(bytes / BLOCK) * BLOCK;

/**
 * Per slot, in WebAssembly memory: the sign-bit code of a vector, its class bits (0 once
 * retired: a role and a kind for the store's index, so that a filter on them is met in the
 * scan), and its event time. The slots nearest a query by Hamming distance are found by a SIMD popcount
 * kernel (16 bytes a step where JavaScript manages 4) and two passes over the slots, a histogram
 * of distances and the pick below its cut (hamming.wat), without a JavaScript loop over a
 * million slots. Layout: the query's code, one u16 distance per slot, the histogram, a u16 of
 * class bits per slot, one f64 time per slot, room for the picked slots (u32), the codes.
 */
export class HammingCodes {
  /** 128-bit blocks per code; the bits past `dimensions` stay zero. */
  private readonly blocks: number;
  private capacity = 0;
  private layout!: Layout;
  private memory!: WasmMemory;
  private kernel!: Kernel;
  private words!: Uint32Array;
  private classes!: Uint16Array;
  private times!: Float64Array;
  /**
   * The query code and slot count the distances in memory were computed for; null once a code
   * changes. A search often scans twice with one query (all of the cube, then a time window).
   */
  private computed: { code: Uint32Array; count: number } | null = null;

  constructor(
    private readonly dimensions: number,
    capacity: number,
  ) {
    this.blocks = Math.ceil(dimensions / 128);
    this.resize(capacity);
  }

  /**
   * Stores the sign bits of a live slot's vector, its event time and its class bits (non-zero;
   * a search keeps the slots whose bits meet both of its masks).
   */
  set(slot: number, vector: Float32Array, time: number, classes = ALL_CLASSES): void {
    if (!Number.isInteger(classes) || classes < 1 || classes > ALL_CLASSES)
      throw new RangeError(`class bits must be 1..${ALL_CLASSES}`);
    this.encode(vector, this.words, this.layout.codes / 4 + slot * this.blocks * 4);
    this.times[slot] = time;
    this.classes[slot] = classes;
    this.computed = null;
  }

  /** Leaves a slot out of searches until it is set again. */
  retire(slot: number): void {
    this.classes[slot] = 0;
  }

  isLive(slot: number): boolean {
    return this.classes[slot] !== 0;
  }

  /** Hamming distance of each of the first `count` slots' codes to the query's. */
  distances(query: Float32Array, count: number): Uint16Array {
    const code = new Uint32Array(this.blocks * 4);
    this.encode(query, code, 0);
    const last = this.computed;
    if (!last || last.count !== count || last.code.some((word, w) => word !== code[w])) {
      this.words.set(code, 0);
      this.kernel.distances(this.layout.codes, 0, count, this.blocks, this.layout.distances);
      this.computed = { code, count };
    }
    return new Uint16Array(this.memory.buffer, this.layout.distances, count);
  }

  /**
   * The `wanted` live slots among the first `count` (within the window, their class bits meeting
   * both masks) nearest the query by Hamming distance, in slot order; of equal distances at the
   * cut, the earliest slots.
   */
  nearest(
    query: Float32Array,
    count: number,
    wanted: number,
    window: { from?: number; to?: number } = {},
    masks: readonly [number, number] = [ALL_CLASSES, ALL_CLASSES],
  ): Uint32Array {
    this.distances(query, count);
    const { layout, kernel } = this;
    const windowed = window.from !== undefined || window.to !== undefined ? 1 : 0;
    const from = window.from ?? Number.NEGATIVE_INFINITY;
    const to = window.to ?? Number.POSITIVE_INFINITY;
    // Distances run 0..dimensions, so a histogram finds the cut-off without sorting.
    const histogram = new Uint32Array(this.memory.buffer, layout.histogram, this.dimensions + 1);
    histogram.fill(0);
    const packed = (masks[0] & ALL_CLASSES) | ((masks[1] & ALL_CLASSES) << 16);
    const scan: SlotScan = [
      layout.distances,
      layout.classes,
      packed,
      layout.times,
      count,
      windowed,
      from,
      to,
    ];
    const eligible = kernel.histogram(...scan, layout.histogram);
    const picked = Math.min(wanted, eligible);
    let cut = 0;
    let below = 0;
    while (below + (histogram[cut] as number) < picked) below += histogram[cut++] as number;
    const found = kernel.select(...scan, cut, picked - below, picked, layout.out);
    return new Uint32Array(this.memory.buffer, layout.out, found).slice();
  }

  /**
   * The `keep` of the given slots whose codes best match the query's own values: the sum of the
   * query's components where a code's bit is set, which ranks by the dot product of the query
   * with the code read as ±1 (the query is not reduced to bits, so this ranks finer than Hamming
   * distance). A byte-wise table of partial sums makes it 1 addition per 8 dimensions.
   */
  closest(query: Float32Array, slots: Uint32Array, keep: number): Uint32Array {
    if (slots.length <= keep) return slots;
    const bytes = this.blocks * BLOCK;
    const table = new Float64Array(bytes * 256);
    for (let j = 0; j < bytes; j++) {
      for (let v = 1; v < 256; v++) {
        const low = 31 - Math.clz32(v & -v);
        table[j * 256 + v] = (table[j * 256 + (v & (v - 1))] as number) + (query[j * 8 + low] ?? 0);
      }
    }
    const all = new Uint8Array(this.memory.buffer);
    const scores = Array.from(slots, (slot) => {
      const start = this.layout.codes + slot * bytes;
      let sum = 0;
      for (let j = 0; j < bytes; j++) sum += table[j * 256 + (all[start + j] as number)] as number;
      return sum;
    });
    const order = Array.from(slots.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number));
    return Uint32Array.from(order.slice(0, keep), (i) => slots[i] as number);
  }

  /** Room for `capacity` slots; existing codes, class bits and times are kept. */
  resize(capacity: number): void {
    const old = this.capacity > 0 ? { layout: this.layout, buffer: this.memory.buffer } : null;
    const kept = this.capacity;
    this.capacity = capacity;
    this.computed = null;
    this.layout = this.layoutFor(capacity);
    this.memory = new Memory({ initial: Math.ceil(this.layout.end / PAGE) });
    this.kernel = new Instance(wasm, { env: { memory: this.memory } }).exports as unknown as Kernel;
    const { buffer } = this.memory;
    this.words = new Uint32Array(buffer);
    this.classes = new Uint16Array(buffer, this.layout.classes, capacity);
    this.times = new Float64Array(buffer, this.layout.times, capacity);
    if (old) {
      const bytes = new Uint8Array(buffer);
      const from = new Uint8Array(old.buffer);
      const copy = (region: 'classes' | 'times' | 'codes', size: number) =>
        bytes.set(from.subarray(old.layout[region], old.layout[region] + size), this.layout[region]);
      copy('classes', kept * 2);
      copy('times', kept * 8);
      copy('codes', kept * this.blocks * BLOCK);
    }
  }

  private layoutFor(capacity: number): Layout {
    const distances = this.blocks * BLOCK;
    const histogram = aligned(distances + capacity * 2);
    const classes = aligned(histogram + (this.dimensions + 1) * 4);
    const times = aligned(classes + capacity * 2);
    const out = aligned(times + capacity * 8);
    const codes = aligned(out + capacity * 4);
    return { distances, histogram, classes, times, out, codes, end: codes + capacity * this.blocks * BLOCK };
  }

  private encode(vector: Float32Array, into: Uint32Array, offset: number): void {
    for (let w = 0; w < this.blocks * 4; w++) {
      let bits = 0;
      const end = Math.max(0, Math.min(32, this.dimensions - w * 32));
      for (let b = 0; b < end; b++) if ((vector[w * 32 + b] as number) > 0) bits |= 1 << b;
      into[offset + w] = bits;
    }
  }
}
