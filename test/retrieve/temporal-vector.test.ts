import { afterEach, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embed/embedder.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

/** Kitchen words point one way, everything else another: enough meaning for a window's ranking. */
const KITCHEN = /kitchen|appliance|mixer|blender/i;
const toyEmbedder: Embedder = {
  id: 'test:kitchen',
  dimensions: async () => 2,
  embed: async (texts) => texts.map((t) => Float32Array.from(KITCHEN.test(t) ? [1, 0] : [0, 1])),
};

const day = (date: string) => Date.parse(`${date}T10:00:00.000Z`);

describe('temporal channel with temporalVector', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
  });

  async function diary(temporalVector: boolean) {
    os = await MemoryOS.open({
      ...PLAIN_RETRIEVAL,
      retrieval: { ...PLAIN_RETRIEVAL.retrieval, temporalVector },
      path: ':memory:',
      embedder: toyEmbedder,
    });
    const cube = await os.cube('diary');
    // The words of the question are said outside its window; inside it, only the meaning matches.
    await cube.add(
      { content: 'Which kitchen appliance should I get?', at: day('2023-03-01') },
      { sessionId: 'a' },
    );
    const { ids } = await cube.add(
      [
        { content: 'The weather was lovely today.', at: day('2023-03-15') },
        { content: 'I finally bought a stand mixer!', at: day('2023-03-15') + 10_000 },
      ],
      { sessionId: 'b' },
    );
    return { cube, mixer: ids[1] };
  }

  const question = 'What kitchen appliance did I buy 10 days ago?';
  const asOf = day('2023-03-25');

  it("ranks the window's items by vector after its lexical hits, so a turn without the question's words is found", async () => {
    const { cube, mixer } = await diary(true);
    const hits = await cube.search(question, { channels: ['temporal'], asOf });
    expect(hits.map((h) => h.item.id)[0]).toBe(mixer);
    expect(hits.every((h) => h.item.sessionId === 'b')).toBe(true);
  });

  it('without it, the temporal channel finds nothing in a window that lacks the words', async () => {
    const { cube } = await diary(false);
    expect(await cube.search(question, { channels: ['temporal'], asOf })).toEqual([]);
  });
});
