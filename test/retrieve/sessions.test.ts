import { describe, expect, it } from 'vitest';
import { boostSessions, boostSessionTopics, sessionTopics } from '../../src/retrieve/sessions.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ItemOrigin } from '../../src/store/store.js';
import { rec } from '../store/conformance.js';

interface Hit {
  id: string;
  content: string;
  score: number;
}

/**
 * Stored turns, scored by hand (session a has three relevant turns, b one strong one), with their
 * sessions as the store reports them for ranking.
 */
async function hitsOfTwoSessions(): Promise<{ hits: Hit[]; sessions: Map<string, ItemOrigin> }> {
  const store = SqliteStore.open(':memory:');
  const scope = { tenant: 'default', cube: 'c' };
  const ctx = { actor: 'test', now: Date.UTC(2024, 0, 1) };
  await store.createCube('default', 'c', { id: 'none', dimensions: 0 }, ctx);
  const specs = [
    { content: 'b0', sessionId: 'b', score: 1.0 },
    { content: 'a0', sessionId: 'a', score: 0.9 },
    { content: 'a1', sessionId: 'a', score: 0.8 },
    { content: 'a2', sessionId: 'a', score: 0.7 },
    { content: 'loose', sessionId: null, score: 0.95 },
  ];
  const outcomes = await store.insertItems(
    scope,
    specs.map((s) => rec(s.content, { sessionId: s.sessionId })),
    ctx,
  );
  const hits = specs
    .map((s, i) => ({ id: outcomes[i]?.id as string, content: s.content, score: s.score }))
    .sort((x, y) => y.score - x.score);
  const sessions = await store.originsOf(
    scope,
    hits.map((h) => h.id),
  );
  await store.close();
  return { hits, sessions };
}

describe('boostSessions', () => {
  it("lifts the turns of the session with the most evidence by its share of the strongest session's", async () => {
    const { hits, sessions } = await hitsOfTwoSessions();
    const boosted = boostSessions(hits, sessions, 0.5);
    // Strengths: a = 0.9 + 0.8 + 0.7 = 2.4 (strongest), b = 1.0; the session-less turn gets no boost.
    const score = Object.fromEntries(boosted.map((h) => [h.content, h.score]));
    expect(score.a0).toBeCloseTo(0.9 * 1.5);
    expect(score.b0).toBeCloseTo(1.0 * (1 + (0.5 * 1.0) / 2.4));
    expect(score.loose).toBeCloseTo(0.95);
    expect(boosted.map((h) => h.content)).toEqual(['a0', 'b0', 'a1', 'a2', 'loose']);
    // Each boosted hit keeps its factor; the session-less turn has none.
    const factor = Object.fromEntries(boosted.map((h) => [h.content, h.sessionBoost]));
    expect(factor.a1).toBeCloseTo(1.5);
    expect(factor.b0).toBeCloseTo(1 + (0.5 * 1.0) / 2.4);
    expect(factor.loose).toBeUndefined();
  });

  it('counts only the best three turns of a session', async () => {
    const { hits, sessions } = await hitsOfTwoSessions();
    const extra = { ...(hits.find((h) => h.content === 'a2') as Hit), score: 0.6 };
    const boosted = boostSessions([...hits, extra], sessions, 1);
    const b0 = boosted.find((h) => h.content === 'b0');
    expect(b0?.score).toBeCloseTo(1.0 * (1 + 1.0 / 2.4));
  });

  it('keeps the incoming order of hits the boost leaves tied, whatever their ids', () => {
    const sessions = new Map<string, ItemOrigin>([
      ['z-first', { session: 's', speaker: null, role: null }],
      ['a-second', { session: 's', speaker: null, role: null }],
      ['m-third', { session: 't', speaker: null, role: null }],
    ]);
    const hits = [
      { id: 'z-first', score: 1 },
      { id: 'a-second', score: 1 },
      { id: 'm-third', score: 0.5 },
    ];
    expect(boostSessions(hits, sessions, 0.5).map((h) => h.id)).toEqual(['z-first', 'a-second', 'm-third']);
  });
});

describe('sessionTopics', () => {
  const user = (session: string | null, speaker: string | null = null): ItemOrigin => ({
    session,
    speaker,
    role: 'user',
  });

  /** The topics of vector hits given as [id, origin, cosine], best first. */
  function topicsOf(rows: Array<[string, ItemOrigin, number]>): Map<string, number> {
    return sessionTopics(
      rows.map(([id, , score]) => ({ id, score })),
      new Map(rows.map(([id, origin]) => [id, origin])),
    );
  }

  it("scores each session by its best user turn's cosine, min-max normalised", () => {
    const topics = topicsOf([
      ['a1', user('a'), 0.8],
      ['b1', user('b'), 0.6],
      ['a2', user('a'), 0.55],
      ['c1', user('c'), 0.4],
    ]);
    expect(topics.get('a')).toBeCloseTo(1);
    expect(topics.get('b')).toBeCloseTo(0.5);
    expect(topics.get('c')).toBeCloseTo(0);
  });

  it("leaves out the assistant's turns, turns with a speaker and turns outside sessions", () => {
    const topics = topicsOf([
      ['assistant', { session: 'x', speaker: null, role: 'assistant' }, 0.9],
      ['named', user('y', 'Melanie'), 0.85],
      ['loose', user(null), 0.8],
      ['a1', user('a'), 0.7],
      ['b1', user('b'), 0.5],
    ]);
    expect([...topics]).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
  });

  it("takes a session's best cosine and skips scores that are not finite", () => {
    const topics = topicsOf([
      ['a-low', user('a'), 0.3],
      ['b-nan', user('b'), Number.NaN],
      ['a-high', user('a'), 0.9],
      ['b1', user('b'), 0.5],
    ]);
    expect(topics.get('a')).toBeCloseTo(1);
    expect(topics.get('b')).toBeCloseTo(0);
  });

  it('is empty for a conversation between named speakers, whose sessions wander', () => {
    const topics = topicsOf([
      ['m', user('s1', 'Melanie'), 0.9],
      ['c', user('s2', 'Caroline'), 0.3],
    ]);
    expect(topics.size).toBe(0);
  });
});

describe('boostSessionTopics', () => {
  it("lifts a hit by its session's topic score and re-sorts", () => {
    const origins = new Map<string, ItemOrigin>([
      ['off-topic', { session: 'x', speaker: null, role: 'assistant' }],
      ['on-topic', { session: 'a', speaker: null, role: 'assistant' }],
      ['loose', { session: null, speaker: null, role: 'user' }],
    ]);
    const hits = [
      { id: 'off-topic', score: 1.0 },
      { id: 'loose', score: 0.9 },
      { id: 'on-topic', score: 0.8 },
    ];
    const topics = new Map([
      ['a', 1],
      ['x', 0],
    ]);
    const boosted = boostSessionTopics(hits, origins, topics, 0.5);
    expect(boosted.map((h) => [h.id, h.score, h.sessionTopicBoost])).toEqual([
      ['on-topic', 0.8 * 1.5, 1.5],
      ['off-topic', 1.0, undefined],
      ['loose', 0.9, undefined],
    ]);
  });

  it('keeps the incoming order of hits the boost ties, and leaves hits of unknown origin alone', () => {
    const origins = new Map<string, ItemOrigin>([
      ['z-first', { session: 'x', speaker: null, role: 'user' }],
      ['a-lifted', { session: 'y', speaker: null, role: 'user' }],
    ]);
    const hits = [
      { id: 'z-first', score: 1 },
      { id: 'unknown', score: 0.9 },
      { id: 'a-lifted', score: 0.8 },
    ];
    const topics = new Map([
      ['x', 0],
      ['y', 0.5],
    ]);
    // 0.8 × (1 + 0.5 × 0.5) = 1: tied with the first hit, after it as it came.
    expect(boostSessionTopics(hits, origins, topics, 0.5)).toEqual([
      { id: 'z-first', score: 1 },
      { id: 'a-lifted', score: 1, sessionTopicBoost: 1.25 },
      { id: 'unknown', score: 0.9 },
    ]);
  });

  it('changes nothing at boost 0 or without topics', () => {
    const origins = new Map<string, ItemOrigin>([['h', { session: 'a', speaker: null, role: 'user' }]]);
    const hits = [{ id: 'h', score: 0.4 }];
    expect(boostSessionTopics(hits, origins, new Map([['a', 1]]), 0)).toBe(hits);
    expect(boostSessionTopics(hits, origins, new Map(), 0.5)).toBe(hits);
  });
});
