import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import { lowerEndedFacts, timeAskedAbout } from '../../src/retrieve/ended.js';
import { OPEN_START } from '../../src/retrieve/query-time.js';
import type { ItemOrigin } from '../../src/store/store.js';

const JUNE = Date.parse('2024-06-01T00:00:00Z');

describe('lowerEndedFacts', () => {
  const origin = (endsAt?: number): ItemOrigin => ({
    session: 's',
    speaker: null,
    role: 'user',
    ...(endsAt === undefined ? {} : { endsAt }),
  });
  const origins = new Map([
    ['portland', origin(JUNE)],
    ['seattle', origin()],
    ['later-end', origin(JUNE + 86_400_000)],
  ]);
  const hits = [
    { id: 'portland', score: 1 },
    { id: 'later-end', score: 0.9 },
    { id: 'seattle', score: 0.6 },
  ];

  it('lowers a fact that ended at or before the time asked about, marks it, and re-sorts', () => {
    expect(lowerEndedFacts(hits, origins, JUNE, 0.5)).toEqual([
      { id: 'later-end', score: 0.9 },
      { id: 'seattle', score: 0.6 },
      { id: 'portland', score: 0.5, ended: 0.5 },
    ]);
  });

  it('keeps a fact still true at that time, one without an origin, and everything at factor 1', () => {
    expect(lowerEndedFacts(hits, origins, JUNE - 1, 0.5)).toEqual(hits);
    expect(lowerEndedFacts([{ id: 'gone', score: 2 }], origins, JUNE, 0.5)).toEqual([
      { id: 'gone', score: 2 },
    ]);
    expect(lowerEndedFacts(hits, origins, JUNE * 2, 1)).toEqual(hits);
  });
});

describe('timeAskedAbout', () => {
  const asked = Date.parse('2024-07-01T00:00:00Z');

  it('is when the question is asked, or the start of the time it names', () => {
    expect(timeAskedAbout(null, asked)).toBe(asked);
    expect(timeAskedAbout({ from: JUNE, to: JUNE + 30 * 86_400_000 }, asked)).toBe(JUNE);
  });

  it('is the end of a time open at its start, or when it is asked if that comes first', () => {
    // "before June 2024", asked in July: the last moment before June.
    expect(timeAskedAbout({ from: OPEN_START, to: JUNE }, asked)).toBe(JUNE - 1);
    // "until next Friday": the question is about now.
    expect(timeAskedAbout({ from: OPEN_START, to: asked + 7 * 86_400_000 }, asked)).toBe(asked);
  });
});

describe('facts no longer true in search', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  /** "I live in Portland" shares the query's words; the move to Seattle does not. */
  async function whereILive(endedFactor?: number) {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      ...(endedFactor === undefined ? {} : { retrieval: { endedFactor } }),
    });
    const cube = await os.createCube('me');
    const {
      ids: [portland],
    } = await cube.add({ content: 'I live in Portland with my two cats.', at: '2024-01-10T10:00:00Z' });
    await cube.add({ content: 'I moved to Seattle, I live near the lake now.', at: '2024-06-10T10:00:00Z' });
    await cube.update(portland as string, { validTo: '2024-06-10T10:00:00Z' });
    const asked = async (asOf: string, query = 'Where do I live?') =>
      (await cube.search(query, { asOf, limit: 2 })).map((h) => [h.item.content.split(' ')[3], h.ended]);
    return asked;
  }

  it('ranks the fact that replaced it first, and the ended one below, marked', async () => {
    const asked = await whereILive();
    expect(await asked('2024-07-01T00:00:00Z')).toEqual([
      ['Seattle,', undefined],
      ['Portland', 0.5],
    ]);
  });

  it('leaves it where it was for a question asked before it ended, or about a time it was true', async () => {
    const asked = await whereILive();
    expect((await asked('2024-03-01T00:00:00Z'))[0]).toEqual(['Portland', undefined]);
    expect((await asked('2024-07-01T00:00:00Z', 'Where did I live in February 2024?'))[0]).toEqual([
      'Portland',
      undefined,
    ]);
    // "before June 2024" is about every time up to June: Portland was true in it.
    expect((await asked('2024-07-01T00:00:00Z', 'Where did I live before June 2024?'))[0]).toEqual([
      'Portland',
      undefined,
    ]);
  });

  it('lowers it for a time open at its start that reaches past when the question is asked', async () => {
    const asked = await whereILive();
    expect(await asked('2024-07-01T00:00:00Z', 'Where do I live until next Friday?')).toEqual([
      ['Seattle,', undefined],
      ['Portland', 0.5],
    ]);
  });

  it('reads the time a question names with the temporal channel left out too', async () => {
    const asked = await whereILive();
    const [first] = await (os as MemoryOS).cube('me').then((cube) =>
      cube.search('Where did I live in February 2024?', {
        asOf: '2024-07-01T00:00:00Z',
        limit: 2,
        channels: ['lexical'],
      }),
    );
    expect([first?.item.content, first?.ended]).toEqual(['I live in Portland with my two cats.', undefined]);
    expect((await asked('2024-07-01T00:00:00Z'))[1]).toEqual(['Portland', 0.5]);
  });

  it('changes nothing when switched off', async () => {
    const asked = await whereILive(1);
    expect((await asked('2024-07-01T00:00:00Z'))[0]).toEqual(['Portland', undefined]);
  });
});
