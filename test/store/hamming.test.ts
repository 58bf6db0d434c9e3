import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { compileHammingWat } from '../../scripts/build-wasm.mjs';
import { HammingCodes } from '../../src/store/hamming/hamming.js';
import { HAMMING_WASM_BASE64 } from '../../src/store/hamming/hamming-wasm.js';

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
      codes.set(slot, v, slot);
    });
    const query = vector(999, dimensions);
    const distances = codes.distances(query, vectors.length);
    expect([...distances]).toEqual(vectors.map((v) => signDistance(v, query)));
    expect(codes.distances(vectors[7] as Float32Array, 10)[7]).toBe(0);
    // Every bit differs: the widest distance must not wrap in the kernel's lanes.
    const opposite = (vectors[3] as Float32Array).map((x) => -x);
    expect(codes.distances(opposite, 10)[3]).toBe(dimensions);
  });

  it('picks the nearest eligible slots as a plain scan would: ties by slot, windows, classes, retired slots, across growth', () => {
    const dimensions = 64;
    const retired = [3, 12, 40];
    let capacity = 16;
    const codes = new HammingCodes(dimensions, capacity);
    // Two parts of class bits, as the store's role and kind: one bit of 3 and one of 5 (bits 4-8).
    const classesOf = (slot: number): number => (1 << (slot % 3)) | (1 << (4 + (slot % 5)));
    // Few distinct vectors, so many slots tie at each distance.
    const vectors = Array.from({ length: 256 }, (_, slot) => vector((slot % 9) + 1, dimensions));
    vectors.forEach((v, slot) => {
      // Growing keeps every slot's code, time and class bits.
      if (slot === capacity) {
        capacity *= 2;
        codes.resize(capacity);
      }
      codes.set(slot, v, slot * 10, classesOf(slot));
      if (retired.includes(slot)) codes.retire(slot);
    });
    const query = vector(50, dimensions);
    const reference = (wanted: number, from: number, to: number, masks = [0xffff, 0xffff]): number[] =>
      vectors
        .map((v, slot) => ({ slot, d: signDistance(v, query), time: slot * 10 }))
        .filter(
          ({ slot, time }) =>
            !retired.includes(slot) &&
            time >= from &&
            time < to &&
            masks.every((mask) => (classesOf(slot) & mask) !== 0),
        )
        .sort((a, b) => a.d - b.d || a.slot - b.slot)
        .slice(0, wanted)
        .map(({ slot }) => slot)
        .sort((a, b) => a - b);
    for (const wanted of [1, 5, 29, 100, 300]) {
      expect([...codes.nearest(query, 256, wanted)]).toEqual(reference(wanted, -Infinity, Infinity));
      expect([...codes.nearest(query, 256, wanted, { from: 500, to: 1500 })]).toEqual(
        reference(wanted, 500, 1500),
      );
      for (const masks of [
        [0b10, 0xffff],
        [0xffff, 1 << 6],
        [0b101, 1 << 4],
      ] as Array<[number, number]>) {
        const kept = reference(wanted, -Infinity, Infinity, masks);
        expect(kept.length).toBeGreaterThan(0);
        expect([...codes.nearest(query, 256, wanted, {}, masks)]).toEqual(kept);
        expect([...codes.nearest(query, 256, wanted, { from: 500, to: 1500 }, masks)]).toEqual(
          reference(wanted, 500, 1500, masks),
        );
      }
    }
    // The distances kept for the last query are recomputed once a code changes.
    codes.set(200, query, 2000);
    expect([...codes.nearest(query, 256, 1)]).toEqual([200]);
  });

  it('keeps the slots whose codes best match the query values: its dot product with the codes as ±1', () => {
    const dimensions = 200;
    const codes = new HammingCodes(dimensions, 64);
    const vectors = Array.from({ length: 64 }, (_, slot) => vector(slot + 100, dimensions));
    vectors.forEach((v, slot) => {
      codes.set(slot, v, 0);
    });
    const query = vector(7, dimensions);
    const signedDot = (v: Float32Array) =>
      v.reduce((sum, x, i) => sum + (x > 0 ? 1 : -1) * (query[i] as number), 0);
    const slots = Uint32Array.from({ length: 40 }, (_, i) => i * 1.5);
    const expected = [...slots].sort(
      (a, b) => signedDot(vectors[b] as Float32Array) - signedDot(vectors[a] as Float32Array),
    );
    expect([...codes.closest(query, slots, 12)]).toEqual(expected.slice(0, 12));
    expect([...codes.closest(query, slots, 40)]).toEqual([...slots]);
  });

  it('ships the bytes that hamming.wat compiles to', async () => {
    expect(await compileHammingWat()).toBe(HAMMING_WASM_BASE64);
  });
});
