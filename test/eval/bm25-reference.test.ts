import { describe, expect, it } from 'vitest';
import { NoneEmbedder } from '../../src/embed/none.js';
import { runLocomo } from '../../src/eval/run-locomo.js';
import { LOCOMO_DEV, PLAIN_LEXICAL, skipWithoutData } from './fixtures.js';
import { Bm25, referenceAllAt10, tokenize } from './reference-bm25.js';

const noData = skipWithoutData(LOCOMO_DEV, 'the reference-BM25 comparison');

describe('reference BM25', () => {
  it('ranks by textbook BM25', () => {
    expect(tokenize('The RED kayak, and a lake!')).toEqual(['red', 'kayak', 'lake']);
    const index = new Bm25([['red', 'kayak'], ['blue', 'kayak', 'kayak'], ['lake']]);
    // "kayak" is in 2 of 3 documents, "red" in 1: the document with both ranks first; "lake" matches nothing asked.
    expect(index.rank(['red', 'kayak'])).toEqual([0, 1]);
    expect(index.rank(['canoe'])).toEqual([]);
  });
});

describe('memcube eval locomo --retriever bm25 --embedder none (plain lexical config) against the reference', () => {
  // About 10 s of CPU; the generous timeout is for a busy shared machine.
  it.skipIf(noData)(
    'lands within 0.05 of plain BM25 on all@10 over the same questions',
    { timeout: 120_000 },
    async () => {
      const reference = referenceAllAt10(LOCOMO_DEV);
      const results = await runLocomo({
        data: LOCOMO_DEV,
        retriever: 'bm25',
        embedder: new NoneEmbedder(),
        embeddingCache: null,
        version: 'test',
        memory: PLAIN_LEXICAL,
      });
      const harness = results.metrics.overall['all@10'] as number;
      console.log(
        `all@10 overall: memcube bm25 ${harness.toFixed(4)}, reference BM25 ${reference.allAt10.toFixed(4)} (${reference.questions} questions)`,
      );
      expect(results.metrics.overall.count).toBe(reference.questions);
      expect(Math.abs(harness - reference.allAt10)).toBeLessThanOrEqual(0.05);
    },
  );
});
