import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';

describe('the word channels leave out hits that matched only words nearly every memory holds', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  /**
   * The lexical channel's hits, by content, for `query` in a cube where every memory says
   * "weekend": 120 of them, since a cube under 100 memories weighs its words as one of 100 would.
   */
  async function lexicalHits(lexicalScoreFloor: number | undefined, query: string) {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      ...(lexicalScoreFloor === undefined ? {} : { retrieval: { lexicalScoreFloor } }),
    });
    const cube = await os.createCube('notes');
    await cube.add([
      { content: 'This weekend I fixed the bike chain.' },
      { content: 'The weekend was rainy.' },
      ...Array.from({ length: 118 }, (_, i) => ({ content: `A quiet weekend at home, number ${i}.` })),
    ]);
    const hits = await cube.search(query, { limit: 200, channels: ['lexical'] });
    return new Map(hits.map((h) => [h.item.content, h.channels.lexical?.score ?? 0]));
  }

  it('by default: a word in every memory scores almost nothing (BM25), so its hits are not ranked', async () => {
    const hits = await lexicalHits(undefined, 'bike weekend');
    expect([...hits.keys()]).toEqual(['This weekend I fixed the bike chain.']);
  });

  it('keeps them with the floor at 0, each far under the best hit', async () => {
    const hits = await lexicalHits(0, 'bike weekend');
    expect(hits.size).toBe(120);
    const best = hits.get('This weekend I fixed the bike chain.') ?? 0;
    expect(hits.get('The weekend was rainy.')).toBeLessThan(best * 0.01);
  });

  it('keeps every hit when no word tells the memories apart: the floor is relative to the best hit', async () => {
    const hits = await lexicalHits(undefined, 'weekend');
    expect(hits.size).toBe(120);
  });

  it('weighs the words of a cube under 100 memories as one of 100 would: a word most of them hold still counts', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.createCube('small');
    await cube.add([
      { content: 'This weekend I fixed the bike chain.' },
      { content: 'A quiet weekend at home.' },
      { content: 'The weekend was rainy.' },
    ]);
    const hits = await cube.search('rainy weekend', { limit: 10, channels: ['lexical'] });
    expect(hits[0]?.item.content).toBe('The weekend was rainy.');
    expect(hits).toHaveLength(3);
    // BM25 would give "weekend", in all three, no weight at all; here it is most of a rare word's.
    const weekendOnly = hits[1]?.channels.lexical?.score ?? 0;
    expect(weekendOnly).toBeGreaterThan((hits[0]?.channels.lexical?.score ?? 0) * 0.2);
  });
});
