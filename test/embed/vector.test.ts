import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/embed/vector.js';

describe('normalize', () => {
  it('scales to unit length without touching the input', () => {
    const v = new Float32Array([3, 4]);
    const n = normalize(v);
    expect(Array.from(n)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(v)).toEqual([3, 4]);
  });

  it('keeps the zero vector zero', () => {
    expect(Array.from(normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});
