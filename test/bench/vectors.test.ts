import { describe, expect, it } from 'vitest';
import { benchItem, generatedCorpus } from '../../src/bench/corpus.js';
import { PrecomputedEmbedder, perturb } from '../../src/bench/vectors.js';
import type { Embedder } from '../../src/embed/embedder.js';

const unit = (values: number[]): Float32Array => {
  const norm = Math.hypot(...values);
  return Float32Array.from(values.map((v) => v / norm));
};
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
const base = unit(Array.from({ length: 512 }, (_, i) => Math.sin(i + 1)));

describe('bench vectors', () => {
  it('perturbs to a unit vector near the original, the same way for the same seed', () => {
    const a = perturb(base, 7);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    expect(dot(a, base)).toBeGreaterThan(0.9);
    expect(dot(a, base)).toBeLessThan(0.99);
    expect(perturb(base, 7)).toEqual(a);
    expect(perturb(base, 8)).not.toEqual(a);
  });

  it('serves known texts, derives cycled copies, and sends only unknown texts to the fallback', async () => {
    const fallback: Embedder = {
      id: 'test',
      dimensions: async () => 512,
      embed: async (texts) => texts.map(() => new Float32Array(512)),
    };
    const embedder = new PrecomputedEmbedder(new Map([['hello', base]]), fallback);
    const [known, copy, unknown] = await embedder.embed(['hello', 'hello [3]', 'other']);
    expect(known).toBe(base);
    expect(dot(copy as Float32Array, base)).toBeGreaterThan(0.9);
    expect(unknown).toEqual(new Float32Array(512));
    expect(embedder.fallbackTexts).toBe(1);
  });

  it('cycles the corpus with distinct texts, sessions and later times', () => {
    const corpus = generatedCorpus(10);
    const first = benchItem(corpus, 3);
    const copy = benchItem(corpus, 13);
    expect(copy).toMatchObject({ base: 3, copy: 1, content: `${first.content} [1]` });
    expect(copy.session).not.toBe(first.session);
    expect(copy.at).toBeGreaterThan(first.at);
  });
});
