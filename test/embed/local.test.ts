import { describe, expect, it } from 'vitest';
import { LocalEmbedder } from '../../src/embed/local.js';
import { cosine } from '../helpers/vectors.js';

function norm(v: Float32Array): number {
  return Math.hypot(...v);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  return Math.max(...a.map((x, i) => Math.abs(x - (b[i] ?? Number.NaN))));
}

describe('LocalEmbedder', () => {
  const embedder = new LocalEmbedder();

  it('identifies itself and reports 512 dimensions', async () => {
    expect(embedder.id).toBe('local:use-lite');
    expect(await embedder.dimensions()).toBe(512);
  });

  it('puts related sentences closer than unrelated ones', async () => {
    const [moved, relocated, recipe] = await embedder.embed([
      'I moved to Berlin last month.',
      'Alice relocated to Germany',
      'The recipe needs two cups of flour',
    ]);
    if (!moved || !relocated || !recipe) throw new Error('missing vectors');
    expect(cosine(moved, relocated)).toBeGreaterThan(cosine(moved, recipe));
  });

  it('returns unit-length 512-d Float32Arrays', async () => {
    const vectors = await embedder.embed(['hello world', 'a second, rather longer sentence about memory']);
    expect(vectors).toHaveLength(2);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(512);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('gives each text the same vector alone or in a batch, in order', async () => {
    const a = 'I moved to Berlin last month.';
    const b = 'The recipe needs two cups of flour';
    const [ab0, ab1] = await embedder.embed([a, b]);
    const [alone0] = await embedder.embed([a]);
    const [alone1] = await embedder.embed([b]);
    if (!ab0 || !ab1 || !alone0 || !alone1) throw new Error('missing vectors');
    expect(maxDiff(ab0, alone0)).toBeLessThan(1e-4);
    expect(maxDiff(ab1, alone1)).toBeLessThan(1e-4);
  });

  it('answers concurrent calls correctly, including a new instance first calls', async () => {
    const fresh = new LocalEmbedder();
    const [[a], [b], [c]] = await Promise.all([
      fresh.embed(['first text']),
      fresh.embed(['second text']),
      embedder.embed(['first text']),
    ]);
    const [sequentialB] = await embedder.embed(['second text']);
    if (!a || !b || !c || !sequentialB) throw new Error('missing vectors');
    expect(maxDiff(a, c)).toBeLessThan(1e-4);
    expect(maxDiff(b, sequentialB)).toBeLessThan(1e-4);
  });

  it('splits work by batchSize without changing results', async () => {
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const small = await new LocalEmbedder({ batchSize: 2 }).embed(texts);
    const big = await embedder.embed(texts);
    expect(small).toHaveLength(5);
    small.forEach((v, i) => {
      expect(maxDiff(v, big[i] ?? new Float32Array())).toBeLessThan(1e-4);
    });
  });

  it('keeps empty strings, even at the end of a batch', async () => {
    const vectors = await embedder.embed(['hello', '', '']);
    const [empty] = await embedder.embed(['']);
    expect(vectors).toHaveLength(3);
    if (!empty) throw new Error('missing vector');
    expect(maxDiff(vectors[2] ?? new Float32Array(), empty)).toBeLessThan(1e-4);
  });

  it('returns [] for no input', async () => {
    expect(await embedder.embed([])).toEqual([]);
  });

  it('rejects a bad batchSize as a config error', () => {
    expect(() => new LocalEmbedder({ batchSize: 0 })).toThrow(/embedder.batchSize/);
  });
});
