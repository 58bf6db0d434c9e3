import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryItem } from '../../src/core/types.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { endsAsking, lowerAskingTurns } from '../../src/retrieve/asking.js';

describe('endsAsking', () => {
  it('is true for a turn whose last sentence is a question', () => {
    expect(endsAsking("Wow, a pottery class! How'd the kids like it?")).toBe(true);
    expect(endsAsking('Did you go? 😊')).toBe(true);
    expect(endsAsking('Have you met them? 👨‍👩‍👧')).toBe(true);
    expect(endsAsking('Really?! 👍🏽')).toBe(true);
    expect(endsAsking('How was it? :)')).toBe(true);
    expect(endsAsking('Going to the game? 🇺🇸')).toBe(true);
    expect(endsAsking('本当？')).toBe(true);
    expect(endsAsking('What a view! Where was it? [image: a lake at dusk]')).toBe(true);
  });

  it('is false for a turn that ends by telling, even after a question', () => {
    expect(endsAsking('Guess what? I signed up for a pottery class.')).toBe(false);
    expect(endsAsking('I finally went camping! [image: a tent? by a river]')).toBe(false);
    expect(endsAsking('')).toBe(false);
  });

  it('reads long turns of spaces or brackets (a quadratic pattern would not finish)', () => {
    expect(endsAsking(' '.repeat(200_000))).toBe(false);
    expect(endsAsking(`${'['.repeat(200_000)}?`)).toBe(true);
    expect(endsAsking(`Why?${' ]'.repeat(100_000)}`)).toBe(false);
    expect(endsAsking(`${'?'.repeat(200_000)}x`)).toBe(false);
    expect(endsAsking(`${'a'.repeat(200_000)}?`)).toBe(true);
  });
});

describe('lowerAskingTurns', () => {
  const item = (id: string, content: string, speaker: string | null): MemoryItem =>
    ({ id, content, speaker }) as MemoryItem;
  const items = new Map(
    [
      item('asks', 'How was the class?', 'Sam'),
      item('tells', 'I took a pottery class.', 'Melanie'),
      item('user-asks', 'I bought a smoker. How do I clean it?', null),
    ].map((i) => [i.id, i]),
  );
  const hits = [
    { id: 'asks', score: 1 },
    { id: 'user-asks', score: 0.95 },
    { id: 'tells', score: 0.9 },
  ];

  it("lowers a speaker's asking turn by the factor, marks it, and re-sorts", () => {
    expect(lowerAskingTurns(hits, items, 0.8)).toEqual([
      { id: 'user-asks', score: 0.95 },
      { id: 'tells', score: 0.9 },
      { id: 'asks', score: 0.8, asking: 0.8 },
    ]);
  });

  it('changes nothing at factor 1, and marks a hit lowered to 0', () => {
    expect(lowerAskingTurns(hits, items, 1)).toEqual(hits);
    expect(lowerAskingTurns(hits, items, 0).at(-1)).toEqual({ id: 'asks', score: 0, asking: 0 });
  });

  it('keeps the score of a hit whose item it was not given', () => {
    expect(lowerAskingTurns([{ id: 'gone', score: 1 }, ...hits], items, 0.8)[0]).toEqual({
      id: 'gone',
      score: 1,
    });
  });
});

describe('asking turns in search', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  /** Sam's question shares more of the query's words; Melanie's turn answers it. */
  async function classTurns(askingTurnFactor?: number) {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      ...(askingTurnFactor === undefined ? {} : { retrieval: { askingTurnFactor } }),
    });
    const cube = await os.createCube('chat');
    await cube.add({
      content: 'Which pottery class did you take, and did you like the class?',
      speaker: 'Sam',
    });
    await cube.add({ content: 'The wheel-throwing one. I loved the pottery class.', speaker: 'Melanie' });
    const hits = await cube.search('Which pottery class did she like?', { limit: 2 });
    return hits.map((h) => ({ speaker: h.item.speaker, asking: h.asking }));
  }

  it('ranks the answering turn above the asking one by default, and says which was lowered', async () => {
    expect(await classTurns()).toEqual([
      { speaker: 'Melanie', asking: undefined },
      { speaker: 'Sam', asking: 0.8 },
    ]);
  });

  it('ranks the asking turn first when switched off', async () => {
    expect(await classTurns(1)).toEqual([
      { speaker: 'Sam', asking: undefined },
      { speaker: 'Melanie', asking: undefined },
    ]);
  });
});
