import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelName } from '../../src/core/types.js';
import { MemoryOS } from '../../src/os/memory-os.js';

/**
 * The session-topic boost through `cube.search`, with the real offline encoder: every other
 * step runs before it, so a hit's score with the boost is its score without it × (1 + boost ×
 * its session's topic score), and the two rankings can be compared hit by hit.
 */
describe('session topics in search', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  /** Two chats with an assistant, one about the dog's vet visit and one about baking; or the same said by named people. */
  async function scores(sessionTopicBoost: number, named: boolean, channels?: ChannelName[]) {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'local', retrieval: { sessionTopicBoost } });
    const cube = await os.createCube('chat');
    const turn = (content: string, role: 'user' | 'assistant', speaker: string) =>
      named ? { content, role, speaker } : { content, role };
    await cube.add(
      [
        turn('My dog Rex needs his vaccinations at the vet next week.', 'user', 'Ana'),
        turn('Good idea to book it early, and bring his records along.', 'assistant', 'Ben'),
      ],
      { sessionId: 'dog' },
    );
    await cube.add(
      [
        turn('I am baking sourdough bread this weekend.', 'user', 'Ana'),
        turn(
          'Feed the starter the night before, and book some time for the dough to rise.',
          'assistant',
          'Ben',
        ),
      ],
      { sessionId: 'baking' },
    );
    const hits = await cube.search('When is the vet visit for my dog?', { limit: 4, channels });
    const out = Object.fromEntries(
      hits.map((h) => [
        h.item.content.split(' ').slice(0, 3).join(' '),
        { score: h.score, topic: h.sessionTopicBoost },
      ]),
    );
    await os.close();
    os = undefined;
    return out;
  }

  it("lifts the turns of the session whose user turn means most what the question asks, the assistant's too", async () => {
    const off = await scores(0, false);
    const on = await scores(0.5, false);
    // The dog session's user turn is the nearest user turn: its session scores 1, baking 0.
    const score = (hits: typeof on, key: string) => hits[key]?.score as number;
    expect(score(on, 'Good idea to')).toBeCloseTo(score(off, 'Good idea to') * 1.5, 10);
    expect(score(on, 'My dog Rex')).toBeCloseTo(score(off, 'My dog Rex') * 1.5, 10);
    expect(score(on, 'Feed the starter')).toBeCloseTo(score(off, 'Feed the starter'), 10);
    expect(score(on, 'I am baking')).toBeCloseTo(score(off, 'I am baking'), 10);
    // Each hit says what the boost did to it; with the boost off, none does.
    expect(Object.entries(on).map(([key, hit]) => [key, hit.topic])).toEqual(
      expect.arrayContaining([
        ['Good idea to', 1.5],
        ['My dog Rex', 1.5],
        ['Feed the starter', undefined],
        ['I am baking', undefined],
      ]),
    );
    expect(Object.values(off).map((hit) => hit.topic)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('changes nothing in a conversation between named speakers', async () => {
    expect(await scores(0.5, true)).toEqual(await scores(0, true));
  });

  it('changes nothing without the vector channel', async () => {
    expect(await scores(0.5, false, ['lexical'])).toEqual(await scores(0, false, ['lexical']));
  });
});
