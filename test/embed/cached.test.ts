import { describe, expect, it } from 'vitest';
import {
  CachedEmbedder,
  type EmbeddingCache,
  embeddingCacheKey,
  recentEmbeddings,
} from '../../src/embed/cached.js';
import type { Embedder } from '../../src/embed/embedder.js';

// The unit under test is the cache, so a tiny Embedder double that counts what it is asked to
// embed stands in for a real model; every vector encodes its text so results can be checked.
class CountingEmbedder implements Embedder {
  readonly id = 'counting';
  readonly calls: string[][] = [];

  async dimensions(): Promise<number> {
    return 2;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls.push(texts);
    return texts.map((t) => new Float32Array([t.length, t.charCodeAt(0) || 0]));
  }
}

/** Map-backed stand-in for the store's embedding cache table. */
class MapCache implements EmbeddingCache {
  readonly entries = new Map<string, Float32Array>();

  async getCachedEmbeddings(embedderId: string, hashes: string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    for (const hash of hashes) {
      const v = this.entries.get(`${embedderId}/${hash}`);
      if (v) found.set(hash, v);
    }
    return found;
  }

  async putCachedEmbeddings(embedderId: string, entries: Array<[string, Float32Array]>): Promise<void> {
    for (const [hash, v] of entries) this.entries.set(`${embedderId}/${hash}`, v);
  }
}

const expected = (t: string) => [t.length, t.charCodeAt(0) || 0];

describe('CachedEmbedder', () => {
  it('has the inner embedder identity and dimensions', async () => {
    const cached = new CachedEmbedder(new CountingEmbedder(), new MapCache());
    expect(cached.id).toBe('counting');
    expect(await cached.dimensions()).toBe(2);
  });

  it('embeds nothing the second time', async () => {
    const inner = new CountingEmbedder();
    const cache = new MapCache();
    const cached = new CachedEmbedder(inner, cache);
    await cached.embed(['alpha', 'beta']);
    const again = await cached.embed(['beta', 'alpha']);
    expect(inner.calls).toEqual([['alpha', 'beta']]);
    expect(again.map((v) => Array.from(v))).toEqual([expected('beta'), expected('alpha')]);
    expect([...cache.entries.keys()].sort()).toEqual(
      [`counting/${embeddingCacheKey('alpha')}`, `counting/${embeddingCacheKey('beta')}`].sort(),
    );
  });

  it('embeds duplicates within one call once and only the misses', async () => {
    const inner = new CountingEmbedder();
    const cached = new CachedEmbedder(inner, new MapCache());
    await cached.embed(['known']);
    const texts = ['new', 'known', 'new', 'other', 'known'];
    const vectors = await cached.embed(texts);
    expect(inner.calls).toEqual([['known'], ['new', 'other']]);
    expect(vectors.map((v) => Array.from(v))).toEqual(texts.map(expected));
  });

  it('keys on the exact text, so whitespace variants are distinct', async () => {
    const inner = new CountingEmbedder();
    const cached = new CachedEmbedder(inner, new MapCache());
    await cached.embed(['a b', 'a  b', ' a b']);
    expect(inner.calls).toEqual([['a b', 'a  b', ' a b']]);
    expect(embeddingCacheKey('a b')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('returns [] for no input without touching the cache or the model', async () => {
    const inner = new CountingEmbedder();
    expect(await new CachedEmbedder(inner, new MapCache()).embed([])).toEqual([]);
    expect(inner.calls).toEqual([]);
  });
});

describe('recentEmbeddings', () => {
  it('keeps the most recently used vectors up to its capacity, apart per embedder', async () => {
    const recent = recentEmbeddings(2);
    const v = (n: number) => new Float32Array([n]);
    await recent.putCachedEmbeddings('a', [
      ['h1', v(1)],
      ['h2', v(2)],
    ]);
    // Reading h1 makes h2 the least recently used, so h3 pushes h2 out.
    expect([...(await recent.getCachedEmbeddings('a', ['h1'])).keys()]).toEqual(['h1']);
    await recent.putCachedEmbeddings('a', [['h3', v(3)]]);
    const held = await recent.getCachedEmbeddings('a', ['h1', 'h2', 'h3']);
    expect([...held.entries()].map(([h, x]) => [h, x[0]])).toEqual([
      ['h1', 1],
      ['h3', 3],
    ]);
    expect((await recent.getCachedEmbeddings('b', ['h1', 'h3'])).size).toBe(0);
  });

  it('spares the model a repeated query in front of a CachedEmbedder', async () => {
    const inner = new CountingEmbedder();
    const cached = new CachedEmbedder(inner, recentEmbeddings(10));
    await cached.embed(['where do I live?']);
    const again = await cached.embed(['where do I live?']);
    expect(inner.calls).toEqual([['where do I live?']]);
    expect(Array.from(again[0] ?? [])).toEqual(expected('where do I live?'));
  });
});
