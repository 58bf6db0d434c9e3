import fs from 'node:fs';
import osTmp from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { CachedEmbedder, recentEmbeddings } from '../../src/embed/cached.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { createEmbedder } from '../../src/embed/factory.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import {
  relatedWords,
  WordVectors,
  withinPostingBudget,
  wordVectorsOf,
} from '../../src/retrieve/related-words.js';
import { LexicalIndex } from '../../src/store/sqlite/lexical-index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { cachedEmbeddingRows } from '../helpers/embedding-cache.js';
import { rec } from '../store/conformance.js';

const ctx = () => ({ actor: 'test', now: Date.now() });
const noVectors = { id: 'none', dimensions: 0 };
const doc = (id: string, text: string, keys = '') => ({
  id,
  text,
  context: '',
  keys,
  status: 'active' as const,
  time: 0,
  role: null,
  kind: 'episode' as const,
});

describe('LexicalIndex vocabulary', () => {
  it('lists each word once, folded and unstemmed, in the order first indexed', () => {
    const index = new LexicalIndex();
    index.set(1, doc('a', 'Paintings at the Café: 42 of them, x', 'Zoë'));
    index.set(2, doc('b', 'painting PAINTINGS cafe'));
    expect(index.vocabulary()).toEqual(['paintings', 'the', 'cafe', 'them', 'zoe', 'painting']);
    expect(index.vocabulary(4)).toEqual(['zoe', 'painting']);
    expect(index.vocabularySize).toBe(6);
  });

  it('keeps the words of a removed row, and tells a rebuilt index by its generation', () => {
    const index = new LexicalIndex();
    index.set(1, doc('a', 'violin lessons'));
    index.set(1, null);
    expect(index.vocabulary()).toEqual(['violin', 'lessons']);
    expect(new LexicalIndex().generation).not.toBe(index.generation);
  });
});

describe('SqliteStore vocabulary', () => {
  it('gives a cube its own words only, and from a mark only the new ones', async () => {
    const store = SqliteStore.open(':memory:');
    const a = { tenant: 'default', cube: 'a' };
    const b = { tenant: 'default', cube: 'b' };
    await store.createCube('default', 'a', noVectors, ctx());
    await store.createCube('default', 'b', noVectors, ctx());
    await store.insertItems(a, [rec('Guitar practice tonight')], ctx());
    await store.insertItems(b, [rec('Secret recipe')], ctx());
    const first = await store.vocabulary(a, null);
    expect(first?.words).toEqual(['guitar', 'practice', 'tonight']);
    expect(first?.from).toBe(0);
    expect((await store.vocabulary(b, null))?.words).toEqual(['secret', 'recipe']);

    await store.insertItems(a, [rec('Violin practice too')], ctx());
    const next = await store.vocabulary(a, first ?? null);
    expect(next).toMatchObject({ generation: first?.generation, from: 3, size: 5, words: ['violin', 'too'] });
    // A mark of another generation (an index since rebuilt) reads the whole vocabulary again.
    const again = await store.vocabulary(a, { generation: -1, size: 3 });
    expect(again?.from).toBe(0);
    expect(again?.words).toHaveLength(5);
    await store.close();
  });
});

describe('withinPostingBudget', () => {
  it('keeps the rarest related words whose postings fit the budget, and none the cube lacks', async () => {
    const store = SqliteStore.open(':memory:');
    const scope = { tenant: 'default', cube: 'home' };
    await store.createCube('default', 'home', noVectors, ctx());
    await store.insertItems(
      scope,
      [
        rec('Family dinner tonight'),
        rec('My family loves the beach'),
        rec('Family photos from the trip'),
        rec('I play the guitar'),
      ],
      ctx(),
    );
    expect(await store.postingCounts(scope, ['family', 'guitar', 'violin'])).toEqual([3, 1, 0]);
    expect(await withinPostingBudget(store, scope, ['family', 'guitar', 'violin'], 100)).toEqual([
      'guitar',
      'family',
    ]);
    expect(await withinPostingBudget(store, scope, ['family', 'guitar'], 3)).toEqual(['guitar']);
    expect(await withinPostingBudget(store, scope, ['family'], 2)).toEqual([]);
    await store.close();
  });

  it('keeps every word when the store cannot count postings', async () => {
    const store = SqliteStore.open(':memory:');
    const uncounted = { ...store, postingCounts: undefined } as unknown as Store;
    expect(await withinPostingBudget(uncounted, { tenant: 'default', cube: 'x' }, ['a', 'b'], 0)).toEqual([
      'a',
      'b',
    ]);
    await store.close();
  });
});

describe('WordVectors held as int8', () => {
  /** A store that lists `words` once, as a cube's vocabulary. */
  const listing = (words: string[]) =>
    ({
      vocabulary: async (_scope: unknown, since: { size: number } | null) => ({
        generation: 1,
        size: words.length,
        from: since?.size ?? 0,
        words: words.slice(since?.size ?? 0),
      }),
    }) as unknown as Store;
  // Letters only: a vocabulary word has no digits.
  const wordAt = (i: number) => `w${String.fromCharCode(97 + (i % 26), 97 + ((i / 26) % 26), 97 + i / 676)}`;
  const vectorOf = (i: number) => Float32Array.from([1 + (i % 7), -(i % 5), 0.5, i === 3 ? 0 : 2]);

  it('reads the cache 1,024 words at a time, and keeps every word and its vector as it grows', async () => {
    const words = Array.from({ length: 2_500 }, (_, i) => wordAt(i));
    const slices: number[] = [];
    const embedder = {
      id: 'test:words',
      dimensions: async () => 4,
      embed: async (texts: string[]) => texts.map((t) => vectorOf(words.indexOf(t))),
      cachedOnly: async (texts: string[]) => {
        slices.push(texts.length);
        return texts.map((t) => vectorOf(words.indexOf(t)));
      },
    };
    const vectors = new WordVectors(listing(words), { tenant: 't', cube: 'c' }, embedder, 3_000);
    await vectors.update();
    expect(slices).toEqual([1_024, 1_024, 452]);
    expect(vectors.size).toBe(2_500);
    for (const i of [0, 1_023, 1_024, 2_499]) {
      const exact = vectorOf(i);
      const norm = Math.hypot(...exact);
      const held = vectors.vectorOf(wordAt(i)) as Float32Array;
      const step = Math.max(...Array.from(exact, (x) => Math.abs(x / norm))) / 127;
      held.forEach((x, d) => {
        expect(Math.abs(x - (exact[d] as number) / norm)).toBeLessThanOrEqual(step / 2 + 1e-7);
      });
    }
  });

  it('holds a zero vector as zeros, which no query word is near', async () => {
    const embedder = {
      id: 'test:zero',
      dimensions: async () => 4,
      embed: async (texts: string[]) => texts.map(() => new Float32Array(4)),
      cachedOnly: async (texts: string[]) => texts.map(() => new Float32Array(4)),
    };
    const vectors = new WordVectors(listing(['hollow']), { tenant: 't', cube: 'c' }, embedder, 10);
    await vectors.update();
    expect(Array.from(vectors.vectorOf('hollow') as Float32Array)).toEqual([0, 0, 0, 0]);
    expect(vectors.nearest('query', Float32Array.from([1, 0, 0, 0]), 5, 0.1, () => false)).toEqual([]);
  });
});

describe('related words (the offline embedder)', () => {
  let embedder: Embedder;
  let store: SqliteStore;
  const scope = { tenant: 'default', cube: 'music' };

  /** A cube of the store, with the offline model's vectors, holding these turns. */
  async function cubeWith(cube: string, texts: string[]) {
    const at = { tenant: 'default', cube };
    await store.createCube(
      'default',
      cube,
      { id: embedder.id, dimensions: await embedder.dimensions() },
      ctx(),
    );
    await store.insertItems(
      at,
      texts.map((text) => rec(text)),
      ctx(),
    );
    return at;
  }

  beforeAll(async () => {
    embedder = createEmbedder('local');
    store = SqliteStore.open(':memory:');
    await cubeWith(scope.cube, [
      'I bought a guitar and I practise the violin every evening.',
      'We watched the instrument maker at the fair.',
      'Lunch was a bowl of ramen with Caroline.',
    ]);
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  it("finds a question word's neighbours in the cube's vocabulary, not its own stem or stopwords", async () => {
    const vectors = new WordVectors(store, scope, embedder, 1000);
    await vectors.embedMissing();
    expect(vectors.pending).toBe(0);
    expect(vectors.vectorOf('guitar')).toBeDefined();
    expect(vectors.vectorOf('the')).toBeUndefined();
    const found = await relatedWords(vectors, embedder, ['instruments'], [], {
      perTerm: 5,
      minSimilarity: 0.6,
    });
    expect(found).toContain('guitar');
    expect(found).toContain('violin');
    expect(found).not.toContain('instrument');
    expect(found).not.toContain('ramen');
  });

  it('holds each vector in a byte a dimension, within a rounding step of the unit vector', async () => {
    const vectors = new WordVectors(store, scope, embedder, 1000);
    await vectors.embedMissing();
    const [model] = (await embedder.embed(['guitar'])) as Float32Array[];
    const norm = Math.hypot(...(model as Float32Array));
    const held = vectors.vectorOf('guitar') as Float32Array;
    const largest = Math.max(...Array.from(model as Float32Array, (x) => Math.abs(x / norm)));
    let cosine = 0;
    held.forEach((x, d) => {
      const exact = ((model as Float32Array)[d] as number) / norm;
      // Rounding to 1/127 of the largest component is off by half a step at most.
      expect(Math.abs(x - exact)).toBeLessThanOrEqual(largest / 254 + 1e-7);
      cosine += x * exact;
    });
    expect(cosine).toBeGreaterThan(0.999);
    // One byte a dimension and a float32 scale a word, where float32 vectors took four bytes.
    const dims = held.length;
    expect(vectors.bytes).toBeLessThan(vectors.size * (dims + 4 + 1_000));
    expect(vectors.bytes).toBeLessThan(vectors.size * dims * 4);
  });

  it('leaves out the words it is told to, and finds nothing below the similarity asked for', async () => {
    const vectors = new WordVectors(store, scope, embedder, 1000);
    await vectors.embedMissing();
    const options = { perTerm: 5, minSimilarity: 0.5 };
    expect(await relatedWords(vectors, embedder, ['guitar'], [], options)).toContain('violin');
    expect(await relatedWords(vectors, embedder, ['guitar'], ['violin'], options)).not.toContain('violin');
    expect(
      await relatedWords(vectors, embedder, ['guitar'], [], { perTerm: 5, minSimilarity: 0.99 }),
    ).toEqual([]);
  });

  it("remembers a query word's neighbours, and compares the words added since with it", async () => {
    const band = await cubeWith('band', ['I play the guitar on Sundays.']);
    const vectors = new WordVectors(store, band, embedder, 1000);
    await vectors.embedMissing();
    const options = { perTerm: 5, minSimilarity: 0.6 };
    const before = await relatedWords(vectors, embedder, ['instruments'], [], options);
    expect(before).toContain('guitar');
    expect(before).not.toContain('cello');
    await store.insertItems(band, [rec('The cello sounds warm.')], ctx());
    await vectors.embedMissing();
    const after = await relatedWords(vectors, embedder, ['instruments'], [], options);
    expect(after).toEqual(expect.arrayContaining(['guitar', 'cello']));
    // As a vocabulary that never saw the question before finds them.
    const fresh = new WordVectors(store, band, embedder, 1000);
    await fresh.embedMissing();
    expect(await relatedWords(fresh, embedder, ['instruments'], [], options)).toEqual(after);
  });

  it('holds no more words than its limit, counting the words still waiting', async () => {
    const capped = new WordVectors(store, scope, embedder, 2);
    await capped.update();
    expect(capped.pending).toBe(2);
    await capped.embedMissing();
    expect(capped.size).toBe(2);
    expect(capped.pending).toBe(0);
  });

  it("takes in at a search only what the embedder's cache holds; the rest waits to be embedded", async () => {
    const cached = new CachedEmbedder(embedder, recentEmbeddings(1000));
    const first = new WordVectors(store, scope, cached, 1000);
    await first.update();
    expect(first.size).toBe(0);
    const waiting = first.pending;
    expect(waiting).toBeGreaterThan(8);
    await first.embedMissing();
    expect(first.size).toBe(waiting);
    expect(first.pending).toBe(0);
    const second = new WordVectors(store, scope, cached, 1000);
    await second.update();
    expect(second.size).toBe(waiting);
    expect(second.pending).toBe(0);
  });

  it('lets a search read the words while the model embeds the missing ones', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: Embedder = {
      id: embedder.id,
      dimensions: () => embedder.dimensions(),
      embed: async (texts) => {
        await gate;
        return embedder.embed(texts);
      },
    };
    const vectors = new WordVectors(store, scope, slow, 1000);
    const warming = vectors.embedMissing();
    // Queued behind the model, this would wait for a gate that only opens after it.
    await vectors.update();
    expect(vectors.size).toBe(0);
    release();
    await warming;
    expect(vectors.size).toBeGreaterThan(8);
  });

  it('takes in a waiting word once another add has cached it, when new words arrive', async () => {
    const other = await cubeWith('songs', ['Cello practice']);
    const cached = new CachedEmbedder(embedder, recentEmbeddings(1000));
    const reader = new WordVectors(store, other, cached, 1000);
    await reader.update();
    expect([reader.size, reader.pending]).toEqual([0, 2]);
    // Another process (here another holder) embeds the words, as an add does.
    await new WordVectors(store, other, cached, 1000).embedMissing();
    await reader.update();
    expect(reader.size).toBe(0);
    await store.insertItems(other, [rec('Cello recital')], ctx());
    await reader.update();
    expect(reader.vectorOf('cello')).toBeDefined();
    expect(reader.vectorOf('practice')).toBeDefined();
    expect([reader.size, reader.pending]).toEqual([2, 1]);
  });

  it('keeps the words waiting when embedding them fails, and embeds them on the next call', async () => {
    let failures = 1;
    const flaky: Embedder = {
      id: embedder.id,
      dimensions: () => embedder.dimensions(),
      embed: async (texts) => {
        if (failures-- > 0) throw new Error('model unavailable');
        return embedder.embed(texts);
      },
    };
    const vectors = new WordVectors(store, scope, flaky, 1000);
    await expect(vectors.embedMissing()).rejects.toThrow('model unavailable');
    expect(vectors.size).toBe(0);
    const waiting = vectors.pending;
    expect(waiting).toBeGreaterThan(0);
    await vectors.embedMissing();
    expect(vectors.size).toBe(waiting);
  });

  it('finds the same nearest words through the Hamming shortlist as by the exact scan', async () => {
    const exact = new WordVectors(store, scope, embedder, 1000);
    // A Hamming shortlist of 10 of the cube's 14 words rescored to 8, so both stages do choose.
    const shortlisted = new WordVectors(store, scope, embedder, 1000, { upTo: 0, shortlist: 10, rescore: 8 });
    await exact.embedMissing();
    await shortlisted.embedMissing();
    expect(shortlisted.size).toBe(14);
    const options = { perTerm: 3, minSimilarity: 0.3 };
    for (const term of ['instruments', 'noodles', 'evening']) {
      const expected = await relatedWords(exact, embedder, [term], [], options);
      expect(expected.length).toBeGreaterThan(1);
      expect(await relatedWords(shortlisted, embedder, [term], [], options)).toEqual(expected);
    }
    // The rescoring stage does narrow: kept to one word, it leaves at most one to find (the exact
    // scan found more for each term).
    const single = new WordVectors(store, scope, embedder, 1000, { upTo: 0, shortlist: 10, rescore: 1 });
    await single.embedMissing();
    for (const term of ['instruments', 'noodles', 'evening']) {
      expect((await relatedWords(single, embedder, [term], [], options)).length).toBeLessThanOrEqual(1);
    }
  });

  it('is shared by the handles of one cube and store, and not by a cube made again under its name', () => {
    const music = { scope, createdAt: '2026-01-01T00:00:00.000Z' };
    expect(wordVectorsOf(store, music, embedder, 1000)).toBe(wordVectorsOf(store, music, embedder, 1000));
    for (const other of [
      { ...music, scope: { ...scope, cube: 'other' } },
      { ...music, scope: { ...scope, tenant: 'acme' } },
      { ...music, createdAt: '2026-02-01T00:00:00.000Z' },
    ]) {
      expect(wordVectorsOf(store, other, embedder, 1000)).not.toBe(
        wordVectorsOf(store, music, embedder, 1000),
      );
    }
  });
});

describe('the related-words channel in search', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  async function bandCube() {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'local' });
    const cube = await os.createCube('band');
    await cube.add({
      content: 'I finally bought a guitar, and the violin lessons start Monday.',
      speaker: 'Tim',
    });
    await cube.add({ content: 'We play board games at the café on Fridays.', speaker: 'Tim' });
    await cube.add({ content: 'My brother and I play basketball after work.', speaker: 'Tim' });
    return cube;
  }

  it("finds a turn by the words nearest the question's when it shares none of them", async () => {
    const cube = await bandCube();
    const words = await cube.search('Which instruments?', { channels: ['lexical'] });
    expect(words.map((h) => h.item.content)).toEqual([]);
    const related = await cube.search('Which instruments?', { channels: ['lexical', 'related'] });
    expect(related[0]?.item.content).toMatch(/guitar/);
    expect(related[0]?.channels.related?.rank).toBe(1);
    expect(related[0]?.channels.lexical).toBeUndefined();
  });

  it('is a default channel, and switched off by its weight', async () => {
    const cube = await bandCube();
    const hits = await cube.search('What instruments does Tim play?');
    const guitar = hits.find((h) => h.item.content.includes('guitar'));
    expect(guitar?.channels.related?.rank).toBe(1);
    await os?.close();
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'local',
      retrieval: { channelWeights: { related: 0 } },
    });
    const plain = await os.createCube('band');
    await plain.add({ content: 'I finally bought a guitar.', speaker: 'Tim' });
    const plainHits = await plain.search('What instruments does Tim play?');
    expect(plainHits).toHaveLength(1);
    expect(plainHits[0]?.channels.related).toBeUndefined();
  });

  /** Runs `test` with the path of a database file in a fresh folder; closes `os` and removes it after. */
  async function inDatabaseFile(test: (file: string) => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(osTmp.tmpdir(), 'memcube-related-'));
    try {
      await test(path.join(dir, 'memory.db'));
    } finally {
      await os?.close();
      os = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Stores Tim's guitar turn with the channel off, as a version without it did: no word is cached. */
  async function storeWithoutWordVectors(file: string): Promise<void> {
    const old = await MemoryOS.open({
      path: file,
      embedder: 'local',
      retrieval: { channelWeights: { related: 0 } },
    });
    await (await old.createCube('band')).add({ content: 'I finally bought a guitar.', speaker: 'Tim' });
    await old.close();
  }

  it('embeds the words with the items, so that a search reads them and writes nothing', async () => {
    await inDatabaseFile(async (file) => {
      os = await MemoryOS.open({ path: file, embedder: 'local' });
      const cube = await os.createCube('band');
      await cube.add({ content: 'I finally bought a guitar.', speaker: 'Tim' });
      const cachedRows = () => cachedEmbeddingRows(file);
      // The turn, and its words "finally", "bought", "guitar" and "tim" (the speaker, a key).
      const rows = cachedRows();
      expect(rows).toBe(5);
      const hits = await cube.search('Which instruments?', { channels: ['related'] });
      expect(hits[0]?.item.content).toBe('I finally bought a guitar.');
      await cube.context('Which instruments?');
      expect(cachedRows()).toBe(rows);
    });
  });

  it('finds by words stored before it existed only once warm() has embedded them', async () => {
    await inDatabaseFile(async (file) => {
      await storeWithoutWordVectors(file);
      os = await MemoryOS.open({ path: file, embedder: 'local' });
      const cube = await os.cube('band', { create: false });
      expect(await cube.search('Which instruments?', { channels: ['related'] })).toEqual([]);
      await cube.warm();
      const [hit] = await cube.search('Which instruments?', { channels: ['related'] });
      expect(hit?.item.content).toBe('I finally bought a guitar.');
    });
  });

  it('is warmed in the background for a memory opened with warmCubes (the server), by a handle that may write', async () => {
    const instruments = async (memory: MemoryOS) =>
      (
        await (
          await memory.cube('band', { create: false })
        ).search('Which instruments?', { channels: ['related'] })
      ).length;
    await inDatabaseFile(async (file) => {
      await storeWithoutWordVectors(file);
      os = await MemoryOS.open({ path: file, embedder: 'local', warmCubes: true });
      // A read-only handle neither warms the cube nor may it embed words.
      const reader = os.as({ tenant: 'default', actor: 'reader', scopes: ['read'] });
      expect(await instruments(reader)).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await instruments(reader)).toBe(0);
      // Opened by a handle that may write, it warms without anyone calling warm().
      await os.cube('band', { create: false });
      await vi.waitFor(async () => expect(await instruments(reader)).toBe(1), {
        timeout: 10_000,
        interval: 50,
      });
    });
  });

  it('is unavailable, with the reason, in a cube without vectors', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.createCube('words');
    await cube.add({ content: 'I bought a guitar.' });
    await expect(cube.search('instruments', { channels: ['related'] })).rejects.toThrow(InvalidInputError);
    await expect(cube.search('instruments', { channels: ['related'] })).rejects.toThrow(/channel 'related'/);
    expect(await cube.search('guitar')).toHaveLength(1);
  });
});
