import { describe, expect, it } from 'vitest';
import {
  allAtK,
  anyAtK,
  distinctUnits,
  ndcgAtK,
  type Ranking,
  reciprocalRank,
} from '../../src/eval/metrics.js';

// A hand-made ranking: relevant units a, b, c sit at ranks 1, 3 and 4 (c shares its item with y).
const ranking: Ranking = [['a'], ['x'], ['b'], ['y', 'c'], ['z']];
const relevant = new Set(['a', 'b', 'c']);

// 1 / log2(i + 1) for ranks 1..4, by hand: 1, 0.63093, 0.5, 0.43068.
const gain = (rank: number) => 1 / Math.log2(rank + 1);

describe('anyAtK', () => {
  it('is 1 once any relevant unit is in the top k', () => {
    expect(anyAtK(ranking, relevant, 1)).toBe(1);
    expect(anyAtK(ranking, new Set(['b']), 2)).toBe(0);
    expect(anyAtK(ranking, new Set(['b']), 3)).toBe(1);
  });

  it('is 0 for an empty ranking', () => {
    expect(anyAtK([], relevant, 10)).toBe(0);
  });
});

describe('allAtK', () => {
  it('is 1 only when every relevant unit is in the top k', () => {
    expect(allAtK(ranking, relevant, 3)).toBe(0);
    expect(allAtK(ranking, relevant, 4)).toBe(1);
    expect(allAtK(ranking, relevant, 50)).toBe(1);
  });

  it('with k = Infinity checks the whole list (a context pack)', () => {
    expect(allAtK(ranking, relevant, Infinity)).toBe(1);
    expect(allAtK(ranking, new Set(['a', 'q']), Infinity)).toBe(0);
  });

  it('is 0 when nothing is relevant', () => {
    expect(allAtK(ranking, new Set(), 5)).toBe(0);
  });
});

describe('ndcgAtK', () => {
  it('binary DCG over the ideal ranking of min(relevant, k) hits', () => {
    // Hits at ranks 1, 3, 4: DCG = 1 + 0.5 + 0.430677 = 1.930677; IDCG = 1 + 0.630930 + 0.5 = 2.130930.
    expect(gain(1) + gain(3) + gain(4)).toBeCloseTo(1.930677, 6);
    expect(ndcgAtK(ranking, relevant, 5)).toBeCloseTo(0.906025, 6);
    // At k = 2 only rank 1 hits; the ideal has 2 hits: 1 / 1.630930.
    expect(ndcgAtK(ranking, relevant, 2)).toBeCloseTo(0.613147, 6);
    expect(ndcgAtK([['a'], ['b'], ['c']], relevant, 10)).toBe(1);
  });

  it('takes the ideal hit count from the corpus when identical turns were stored as one item', () => {
    // a and b are one item, at rank 2: DCG = 0.630930, and the ideal is that one item at rank 1.
    expect(ndcgAtK([['x'], ['a', 'b']], new Set(['a', 'b']), 10, 1)).toBeCloseTo(0.63093, 5);
  });

  it('is 0 without relevant units or hits', () => {
    expect(ndcgAtK(ranking, new Set(), 10)).toBe(0);
    expect(ndcgAtK([['x']], relevant, 10)).toBe(0);
  });
});

describe('reciprocalRank', () => {
  it('is 1 / rank of the first relevant item, within the depth', () => {
    expect(reciprocalRank(ranking, relevant)).toBe(1);
    expect(reciprocalRank(ranking, new Set(['b']))).toBeCloseTo(1 / 3, 10);
    expect(reciprocalRank(ranking, new Set(['c']))).toBe(0.25);
    expect(reciprocalRank(ranking, new Set(['b']), 2)).toBe(0);
    expect(reciprocalRank(ranking, new Set(['q']))).toBe(0);
  });
});

describe('distinctUnits', () => {
  it('keeps each unit once, at its first appearance (turns mapped to sessions)', () => {
    expect(distinctUnits([['s1'], ['s2', 's1'], ['s1'], ['s3']])).toEqual([['s1'], ['s2'], ['s3']]);
    expect(distinctUnits([])).toEqual([]);
  });

  it('feeds session-level any / all at k', () => {
    const sessions = distinctUnits([['s1'], ['s1'], ['s2'], ['s1'], ['s3']]);
    expect(allAtK(sessions, new Set(['s1', 's3']), 2)).toBe(0);
    expect(allAtK(sessions, new Set(['s1', 's3']), 3)).toBe(1);
  });
});
