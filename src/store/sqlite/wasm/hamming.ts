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
const BLOCK = 16;

interface Kernel {
  distances(codes: number, query: number, count: number, blocks: number, out: number): void;
}

/**
 * Sign-bit codes of many vectors in WebAssembly memory, compared with a query by a SIMD popcount
 * kernel (hamming.wat): 16 bytes a step where JavaScript manages 4, about 8× faster per code.
 * Layout: the query's code, then one u16 distance per slot, then the codes.
 */
export class HammingCodes {
  /** 128-bit blocks per code; the bits past `dimensions` stay zero. */
  private readonly blocks: number;
  private capacity = 0;
  private memory!: WasmMemory;
  private kernel!: Kernel;
  private codes!: Uint32Array;
  private distanceView!: Uint16Array;

  constructor(
    private readonly dimensions: number,
    capacity: number,
  ) {
    this.blocks = Math.ceil(dimensions / 128);
    this.resize(capacity);
  }

  /** Stores the sign bits of a slot's vector. */
  set(slot: number, vector: Float32Array): void {
    this.encode(vector, this.codes, this.codesOffset() / 4 + slot * this.blocks * 4);
  }

  /** Hamming distance of each of the first `count` slots' codes to the query's. */
  distances(query: Float32Array, count: number): Uint16Array {
    const all = new Uint32Array(this.memory.buffer);
    this.encode(query, all, 0);
    this.kernel.distances(this.codesOffset(), 0, count, this.blocks, this.blocks * BLOCK);
    return this.distanceView.subarray(0, count);
  }

  /** Room for `capacity` slots; existing codes are kept. */
  resize(capacity: number): void {
    const start = this.codesOffset() / 4;
    const oldCodes =
      this.capacity > 0 ? this.codes.slice(start, start + this.capacity * this.blocks * 4) : null;
    this.capacity = capacity;
    const bytes = this.codesOffset() + capacity * this.blocks * BLOCK;
    this.memory = new Memory({ initial: Math.ceil(bytes / PAGE) });
    this.kernel = new Instance(wasm, { env: { memory: this.memory } }).exports as unknown as Kernel;
    this.codes = new Uint32Array(this.memory.buffer);
    this.distanceView = new Uint16Array(this.memory.buffer, this.blocks * BLOCK, capacity);
    if (oldCodes) this.codes.set(oldCodes, this.codesOffset() / 4);
  }

  /** Codes start after the query block and the distances, on a 16-byte boundary. */
  private codesOffset(): number {
    return this.blocks * BLOCK + Math.ceil((this.capacity * 2) / BLOCK) * BLOCK;
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
