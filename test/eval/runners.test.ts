import { describe, expect, it } from 'vitest';
import { NoneEmbedder } from '../../src/embed/none.js';
import { runLocomo } from '../../src/eval/run-locomo.js';
import { runLongMemEval } from '../../src/eval/run-longmemeval.js';
import { LOCOMO_MINI, LONGMEMEVAL_MINI, PLAIN_LEXICAL } from './fixtures.js';

const base = {
  embedder: new NoneEmbedder(),
  embeddingCache: null,
  version: 'test',
  memory: PLAIN_LEXICAL,
} as const;

// The mini datasets are written so that the lexical channel matches exactly the turns named
// below, which makes every metric computable by hand (see the fixture files).
describe('runLocomo on the mini dataset (bm25, no embedder)', () => {
  it('scores each question as computed by hand', async () => {
    const results = await runLocomo({ ...base, data: LOCOMO_MINI, retriever: 'bm25' });
    const byId = new Map(results.questions.map((q) => [q.id, q]));
    expect([...byId.keys()]).toEqual([
      'mini-1#0',
      'mini-1#1',
      'mini-1#2',
      'mini-1#3',
      'mini-1#7',
      'mini-2#0',
    ]);

    // Only D1:1 mentions a kayak: rank 1, every metric 1.
    expect(byId.get('mini-1#0')?.retrieved).toEqual(['D1:1']);
    expect(byId.get('mini-1#0')?.metrics).toMatchObject({
      'all@5': 1,
      'all@budget1000': 1,
      'ndcg@10': 1,
      mrr: 1,
    });
    // Evidence D1:2 and D2:1, but only D1:2 says "puppy": any 1, all 0, nDCG = 1 / (1 + 1/log2 3).
    expect(byId.get('mini-1#1')?.metrics).toMatchObject({
      'any@5': 1,
      'all@50': 0,
      'all@budget4000': 0,
      mrr: 1,
    });
    expect(byId.get('mini-1#1')?.metrics['ndcg@10']).toBeCloseTo(0.613147, 6);
    // The image turn is found through its BLIP caption ("photo", "coast").
    expect(byId.get('mini-1#2')?.retrieved).toEqual(['D1:3']);
    // "D1:4; D2:4" is split into two ids; both match (lisbon, race).
    expect(byId.get('mini-1#3')?.gold).toEqual(['D1:4', 'D2:4']);
    expect(byId.get('mini-1#3')?.metrics).toMatchObject({ 'all@5': 1, 'ndcg@10': 1 });
    // No turn mentions a snowstorm: nothing retrieved, every metric 0.
    expect(byId.get('mini-1#7')?.retrieved).toEqual([]);
    expect(Object.values(byId.get('mini-1#7')?.metrics ?? {})).toEqual(new Array(13).fill(0));

    // Means: any@5 = 5/6, all@5 = 4/6, nDCG = (4 + 0.613147) / 6 = 0.768858, MRR = 5/6.
    expect(results.metrics.overall).toMatchObject({
      count: 6,
      'any@5': 0.8333,
      'all@5': 0.6667,
      'all@budget2000': 0.6667,
      'ndcg@10': 0.7689,
      mrr: 0.8333,
    });
    expect(Object.keys(results.metrics.byCategory)).toEqual([
      'multi-hop',
      'temporal',
      'open-domain',
      'single-hop',
    ]);
    expect(results.metrics.byCategory.temporal).toMatchObject({
      count: 2,
      'any@10': 0.5,
      'all@10': 0.5,
      mrr: 0.5,
    });
    expect(results.metrics.byCategory['multi-hop']).toMatchObject({
      count: 1,
      'all@10': 0,
      'ndcg@10': 0.6131,
    });

    expect(results.data_notes).toMatchObject({
      conversations: 2,
      questions_total: 9,
      questions_scored: 6,
      excluded_adversarial: 1,
      excluded_no_evidence: 1,
      excluded_unresolved_evidence: 1,
      unresolved_evidence: [{ question: 'mini-1#6', evidence: ['D9:9'], unresolved: ['D9:9'] }],
      evidence_entries_split: 1,
    });
    expect(results.config).toMatchObject({
      retriever: 'bm25',
      channels: ['lexical'],
      embedder: 'none',
      qa: false,
    });
  });

  it('--limit takes the first N conversations', async () => {
    const results = await runLocomo({ ...base, data: LOCOMO_MINI, retriever: 'hybrid', limit: 1 });
    expect(results.data_notes.conversations).toBe(1);
    expect(results.metrics.overall.count).toBe(5);
    // hybrid without vectors is memcube's default on a lexical-only cube; the plain config runs no second round.
    expect(results.config.channels).toEqual(['lexical', 'temporal']);
  });

  it('refuses the vector retriever without an embedder', async () => {
    await expect(runLocomo({ ...base, data: LOCOMO_MINI, retriever: 'vector' })).rejects.toThrow(
      /--retriever vector needs an embedder/,
    );
  });
});

describe('runLongMemEval on the mini dataset (bm25, no embedder)', () => {
  it('scores sessions and answer turns, skipping abstention questions', async () => {
    const results = await runLongMemEval({ ...base, data: LONGMEMEVAL_MINI, retriever: 'bm25' });
    expect(results.questions.map((q) => q.id)).toEqual(['mini_q1', 'mini_q2', 'mini_q4']);
    // "tomato" and "plant" reach both answer sessions.
    expect(new Set(results.questions[1]?.retrieved)).toEqual(new Set(['answer_q2_a', 'answer_q2_b']));
    for (const q of results.questions) {
      expect(q.metrics).toEqual({
        'session_any@5': 1,
        'session_all@5': 1,
        'session_any@10': 1,
        'session_all@10': 1,
        'turn_any@10': 1,
        'turn_all@10': 1,
        'turn_all@budget2000': 1,
        'ndcg@10': 1,
      });
    }
    expect(Object.keys(results.metrics.byCategory)).toEqual([
      'single-session-user',
      'multi-session',
      'knowledge-update',
    ]);
    expect(results.data_notes).toMatchObject({
      questions_total: 4,
      questions_scored: 3,
      excluded_abstention: 1,
      questions_with_repeated_session_ids: 1,
      questions_without_answer_turns: 0,
      // mini_q4 sends session noise_e twice at the same time, its two turns stored once each, and a
      // third time a day later, stored again: said then, it is new evidence.
      turns_merged_as_duplicates: 2,
    });
  });
});
