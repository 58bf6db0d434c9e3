import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { compileHammingWat } from '../../scripts/build-wasm.mjs';
import { HammingCodes } from '../../src/store/sqlite/wasm/hamming.js';
import { HAMMING_WASM_BASE64 } from '../../src/store/sqlite/wasm/hamming-wasm.js';

/** Deterministic pseudo-random vector with both signs. */
function vector(seed: number, dimensions: number): Float32Array {
  let state = seed * 2654435761;
  return Float32Array.from({ length: dimensions }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

function signDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if ((a[i] as number) > 0 !== (b[i] as number) > 0) d++;
  return d;
}

describe('HammingCodes (WASM SIMD kernel)', () => {
  it.each([
    64, 200, 512, 1536, 4096, 8192,
  ])('counts differing sign bits at %i dimensions, across growth', (dimensions) => {
    let capacity = 4;
    const codes = new HammingCodes(dimensions, capacity);
    const vectors = Array.from({ length: 300 }, (_, i) => vector(i + 1, dimensions));
    vectors.forEach((v, slot) => {
      if (slot === capacity) {
        capacity *= 2;
        codes.resize(capacity);
      }
      codes.set(slot, v);
    });
    const query = vector(999, dimensions);
    const distances = codes.distances(query, vectors.length);
    expect([...distances]).toEqual(vectors.map((v) => signDistance(v, query)));
    expect(codes.distances(vectors[7] as Float32Array, 10)[7]).toBe(0);
    // Every bit differs: the widest distance must not wrap in the kernel's lanes.
    const opposite = (vectors[3] as Float32Array).map((x) => -x);
    expect(codes.distances(opposite, 10)[3]).toBe(dimensions);
  });

  it('ships the bytes that hamming.wat compiles to', async () => {
    expect(await compileHammingWat()).toBe(HAMMING_WASM_BASE64);
  });
});
