import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';

/**
 * The vector channel's floor through `cube.search`, with the real offline encoder, on the README's
 * command-line example (its `conversation.json` made up here): three turns, two sessions, and a
 * question that shares no word with its answer.
 */
describe('the vector channel leaves out hits far below its best', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  async function whereAliceLives(vectorScoreFloor?: number) {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'local',
      ...(vectorScoreFloor === undefined ? {} : { retrieval: { vectorScoreFloor } }),
    });
    const cube = await os.createCube('alice');
    await cube.add(
      { speaker: 'Alice', content: 'I moved to Berlin last month', at: '2024-05-03T10:00:00Z' },
      { sessionId: 's1' },
    );
    await cube.add(
      [
        {
          role: 'user',
          speaker: 'Alice',
          content: 'Can you recommend a good bakery near me?',
          at: '2024-05-10T09:00:00Z',
        },
        {
          role: 'assistant',
          content: 'Try Zeit für Brot in Mitte, their cinnamon rolls are famous.',
          at: '2024-05-10T09:00:05Z',
        },
      ],
      { sessionId: 's2' },
    );
    const hits = await cube.search('where does Alice live?', { limit: 3, asOf: '2024-05-11T00:00:00Z' });
    return hits.map((h) => [h.item.content.split(' ').slice(0, 3).join(' '), h.channels.vector?.rank]);
  }

  it('ranks the answer first: a cosine under 0.3 of the best casts no vote', async () => {
    const ranked = await whereAliceLives();
    expect(ranked[0]).toEqual(['I moved to', 2]);
    // The bakery tip is found only beside its question (turn proximity), not by its meaning.
    expect(ranked).toContainEqual(['Try Zeit für', undefined]);
  });

  it('lets every hit vote by its place when switched off', async () => {
    const ranked = await whereAliceLives(0);
    expect(ranked).toContainEqual(['Try Zeit für', 3]);
    expect(ranked[0]).not.toEqual(['I moved to', 2]);
  });
});
