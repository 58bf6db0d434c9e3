import { describe, expect, it } from 'vitest';
import {
  decisiveness,
  fuseAdaptive,
  fuseReciprocalRank,
  fuseScores,
  withVectorFloor,
} from '../../src/retrieve/fusion.js';

const K = 60;

describe('fuseReciprocalRank', () => {
  it('sums 1/(k + rank) over channels: rank 1 lexical + rank 3 vector = 1/61 + 1/63', () => {
    const fused = fuseReciprocalRank(
      [
        {
          channel: 'lexical',
          weight: 1,
          hits: [
            { id: 'a', score: 7.5 },
            { id: 'b', score: 3.25 },
          ],
        },
        {
          channel: 'vector',
          weight: 1,
          hits: [
            { id: 'c', score: 0.9 },
            { id: 'b', score: 0.8 },
            { id: 'a', score: 0.7 },
          ],
        },
      ],
      K,
    );
    // 1/61 + 1/63 > 2/62 (1/x is convex), so a's split ranks beat b's two second places.
    expect(fused.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    const byId = new Map(fused.map((h) => [h.id, h]));
    expect(byId.get('a')?.score).toBe(1 / 61 + 1 / 63);
    expect(byId.get('b')?.score).toBe(1 / 62 + 1 / 62);
    expect(byId.get('c')?.score).toBe(1 / 61);
  });

  it("reports each channel's 1-based rank and raw score, and only the channels that found the item", () => {
    const fused = fuseReciprocalRank(
      [
        {
          channel: 'lexical',
          weight: 1,
          hits: [
            { id: 'a', score: 7.5 },
            { id: 'b', score: 3.25 },
          ],
        },
        {
          channel: 'vector',
          weight: 1,
          hits: [
            { id: 'c', score: 0.9 },
            { id: 'b', score: 0.8 },
            { id: 'a', score: 0.7 },
          ],
        },
      ],
      K,
    );
    const byId = new Map(fused.map((h) => [h.id, h]));
    expect(byId.get('a')?.channels).toEqual({
      lexical: { rank: 1, score: 7.5 },
      vector: { rank: 3, score: 0.7 },
    });
    expect(byId.get('b')?.channels).toEqual({
      lexical: { rank: 2, score: 3.25 },
      vector: { rank: 2, score: 0.8 },
    });
    expect(byId.get('c')?.channels).toEqual({ vector: { rank: 1, score: 0.9 } });
    // Only id, score, channels: the internal tie-break field does not leak.
    expect(Object.keys(byId.get('a') ?? {}).sort()).toEqual(['channels', 'id', 'score']);
  });

  it('uses k: a larger k flattens the gap between ranks', () => {
    const hits = [
      { id: 'a', score: 2 },
      { id: 'b', score: 1 },
    ];
    const small = fuseReciprocalRank([{ channel: 'lexical', weight: 1, hits }], 1);
    const large = fuseReciprocalRank([{ channel: 'lexical', weight: 1, hits }], 1000);
    expect(small.map((h) => h.score)).toEqual([1 / 2, 1 / 3]);
    expect(large.map((h) => h.score)).toEqual([1 / 1001, 1 / 1002]);
  });

  it("multiplies each channel's contribution by its weight", () => {
    const results = [
      { channel: 'lexical' as const, weight: 2, hits: [{ id: 'lex', score: 5 }] },
      {
        channel: 'vector' as const,
        weight: 0.5,
        hits: [
          { id: 'vec', score: 0.5 },
          { id: 'lex', score: 0.4 },
        ],
      },
    ];
    const fused = fuseReciprocalRank(results, K);
    expect(fused.map((h) => h.id)).toEqual(['lex', 'vec']);
    expect(fused[0]?.score).toBe(2 / 61 + 0.5 / 62);
    expect(fused[1]?.score).toBe(0.5 / 61);
  });

  it('lets a heavier channel overturn the order', () => {
    const results = (lexicalWeight: number) =>
      fuseReciprocalRank(
        [
          { channel: 'lexical', weight: lexicalWeight, hits: [{ id: 'x', score: 1 }] },
          {
            channel: 'vector',
            weight: 1,
            hits: [
              { id: 'y', score: 1 },
              { id: 'z', score: 1 },
            ],
          },
        ],
        K,
      ).map((h) => h.id);
    expect(results(1)).toEqual(['x', 'y', 'z']); // tie x/y broken by id
    expect(results(0.99)).toEqual(['y', 'x', 'z']); // 1/62 < 0.99/61 < 1/61
    expect(results(0.5)).toEqual(['y', 'z', 'x']);
  });

  it('a zero-weight channel adds nothing to the score but still reports its rank', () => {
    const fused = fuseReciprocalRank(
      [
        { channel: 'lexical', weight: 1, hits: [{ id: 'a', score: 3 }] },
        { channel: 'vector', weight: 0, hits: [{ id: 'a', score: 0.9 }] },
      ],
      K,
    );
    expect(fused).toEqual([
      {
        id: 'a',
        score: 1 / 61,
        channels: { lexical: { rank: 1, score: 3 }, vector: { rank: 1, score: 0.9 } },
      },
    ]);
  });

  it('breaks ties deterministically: equal scores by best single-channel rank, then by id', () => {
    // Same score (both only in a zero-weight channel): best rank decides, not the id.
    const byRank = fuseReciprocalRank(
      [
        {
          channel: 'vector',
          weight: 0,
          hits: [
            { id: 'zzz', score: 0.9 },
            { id: 'aaa', score: 0.8 },
          ],
        },
      ],
      K,
    );
    expect(byRank.map((h) => h.id)).toEqual(['zzz', 'aaa']);

    // Same score and same best rank: id order, whatever the input order.
    const mirrored = (first: 'lexical' | 'vector') =>
      fuseReciprocalRank(
        first === 'lexical'
          ? [
              {
                channel: 'lexical',
                weight: 1,
                hits: [
                  { id: 'q', score: 1 },
                  { id: 'p', score: 1 },
                ],
              },
              {
                channel: 'vector',
                weight: 1,
                hits: [
                  { id: 'p', score: 1 },
                  { id: 'q', score: 1 },
                ],
              },
            ]
          : [
              {
                channel: 'vector',
                weight: 1,
                hits: [
                  { id: 'p', score: 1 },
                  { id: 'q', score: 1 },
                ],
              },
              {
                channel: 'lexical',
                weight: 1,
                hits: [
                  { id: 'q', score: 1 },
                  { id: 'p', score: 1 },
                ],
              },
            ],
        K,
      );
    expect(mirrored('lexical').map((h) => h.id)).toEqual(['p', 'q']);
    expect(mirrored('vector').map((h) => h.id)).toEqual(['p', 'q']);
    expect(mirrored('lexical')[0]?.score).toBe(mirrored('lexical')[1]?.score);
  });

  it('returns an empty list for no channels or empty channels', () => {
    expect(fuseReciprocalRank([], K)).toEqual([]);
    expect(fuseReciprocalRank([{ channel: 'lexical', weight: 1, hits: [] }], K)).toEqual([]);
  });
});

describe('fuseScores', () => {
  it("sums each channel's scores divided by its best score, times its weight", () => {
    const fused = fuseScores([
      {
        channel: 'lexical',
        weight: 1,
        hits: [
          { id: 'a', score: 8 },
          { id: 'b', score: 2 },
        ],
      },
      {
        channel: 'vector',
        weight: 0.3,
        hits: [
          { id: 'b', score: 0.5 },
          { id: 'c', score: 0.25 },
        ],
      },
    ]);
    expect(fused.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(fused[0]?.score).toBeCloseTo(1, 12);
    expect(fused[1]?.score).toBeCloseTo(2 / 8 + 0.3, 12);
    expect(fused[2]?.score).toBeCloseTo(0.3 * 0.5, 12);
    expect(fused[1]?.channels).toEqual({ lexical: { rank: 2, score: 2 }, vector: { rank: 1, score: 0.5 } });
  });

  it("keeps a clear lexical winner ahead of a weak channel's near-ties, where rank fusion would not", () => {
    const channels = [
      {
        channel: 'lexical' as const,
        weight: 1,
        hits: [
          { id: 'x', score: 10 },
          { id: 'y', score: 1 },
        ],
      },
      {
        channel: 'vector' as const,
        weight: 1,
        hits: [
          { id: 'y', score: 0.31 },
          { id: 'x', score: 0.3 },
        ],
      },
    ];
    expect(fuseScores(channels)[0]?.id).toBe('x');
    // Rank fusion sees rank 1 + rank 2 for both: a tie it breaks by id, not by evidence.
    const rrf = fuseReciprocalRank(channels, 60);
    expect(rrf[0]?.score).toBeCloseTo(rrf[1]?.score ?? 0, 12);
  });

  it('ignores a channel whose best score is not positive', () => {
    expect(fuseScores([{ channel: 'lexical', weight: 1, hits: [{ id: 'a', score: 0 }] }])[0]?.score).toBe(0);
  });
});

describe('fuseAdaptive', () => {
  // Lexical has a clear winner x; the vector channel ranks y first and x third, so ranks favour y.
  const lexical = {
    channel: 'lexical' as const,
    weight: 1,
    hits: [
      { id: 'x', score: 10 },
      { id: 'y', score: 1 },
    ],
  };
  const vector = (scores: number[]) => ({
    channel: 'vector' as const,
    weight: 1,
    hits: scores.map((score, i) => ({ id: ['y', 'v', 'x'][i] ?? `v${i}`, score })),
  });
  const flat = vector([0.5, 0.49, 0.49, 0.48, 0.48, 0.48, 0.47, 0.47, 0.47, 0.46]);
  const decisive = vector([0.9, 0.5, 0.4, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2]);

  it('fuses by score when the vector ranking is flat: the clear lexical winner stays first', () => {
    const fused = fuseAdaptive([lexical, flat], K, 0.2);
    expect(fused.map((h) => h.id)).toEqual(fuseScores([lexical, flat]).map((h) => h.id));
    expect(fused[0]?.id).toBe('x');
    expect(fuseReciprocalRank([lexical, flat], K)[0]?.id).toBe('y');
  });

  it('fuses by rank when the vector ranking is decisive, or when there is no vector channel', () => {
    expect(fuseAdaptive([lexical, decisive], K, 0.2)).toEqual(fuseReciprocalRank([lexical, decisive], K));
    expect(fuseAdaptive([lexical], K, 0.2)).toEqual(fuseReciprocalRank([lexical], K));
  });

  it('reads flatness from all the vector hits, and fuses only those above the floor', () => {
    // Only 0.9 is above 0.85 of the best: alone it would look flat (0), all ten are decisive.
    const fused = fuseAdaptive([lexical, decisive], K, 0.2, 0.85);
    expect(fused).toEqual(fuseReciprocalRank(withVectorFloor([lexical, decisive], 0.85), K));
    expect(fused.find((h) => h.id === 'x')?.channels.vector).toBeUndefined();
  });
});

describe('withVectorFloor', () => {
  it("leaves out the vector channel's hits under the fraction of its best, and no other channel's", () => {
    const results = [
      {
        channel: 'vector' as const,
        weight: 1,
        hits: [
          { id: 'a', score: 0.5 },
          { id: 'b', score: 0.2 },
          { id: 'c', score: 0.1 },
        ],
      },
      {
        channel: 'lexical' as const,
        weight: 1,
        hits: [
          { id: 'a', score: 9 },
          { id: 'c', score: 0.1 },
        ],
      },
    ];
    expect(withVectorFloor(results, 0.3).map((r) => r.hits.map((h) => h.id))).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
    expect(withVectorFloor(results, 0)).toEqual(results);
  });
});

describe('decisiveness', () => {
  const hits = (scores: number[]) => scores.map((score, i) => ({ id: `h${i}`, score }));

  it('is (best - 10th best) / best: a clear winner scores high, a flat ranking low', () => {
    const clear = hits([0.8, 0.5, 0.45, 0.44, 0.43, 0.42, 0.41, 0.41, 0.4, 0.4, 0.39]);
    const flat = hits([0.5, 0.49, 0.49, 0.48, 0.48, 0.47, 0.47, 0.46, 0.46, 0.45, 0.45]);
    expect(decisiveness(clear)).toBeCloseTo(0.5);
    expect(decisiveness(flat)).toBeCloseTo(0.1);
  });

  it('compares with the last hit when there are fewer than ten, and is 0 with nothing to compare', () => {
    expect(decisiveness(hits([1, 0.25]))).toBeCloseTo(0.75);
    expect(decisiveness(hits([0.7]))).toBe(0);
    expect(decisiveness([])).toBe(0);
    expect(decisiveness(hits([0, -0.1]))).toBe(0);
  });
});
