import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import { focusNamedSpeaker, namedSpeakers } from '../../src/retrieve/speakers.js';
import type { ItemOrigin } from '../../src/store/store.js';

const origin = (speaker: string | null): ItemOrigin => ({ session: 's', speaker });

describe('namedSpeakers', () => {
  it('keeps the speakers whose name is among the query terms, once each', () => {
    expect(namedSpeakers(['Melanie', 'Caroline', 'Melanie', null], ['melanie', 'kids'])).toEqual(['Melanie']);
    expect(namedSpeakers(['Jon Smith', 'Gina'], ['smith', 'gina'])).toEqual(['Jon Smith', 'Gina']);
    expect(namedSpeakers(['Melanie'], ['kids'])).toEqual([]);
  });
});

describe('focusNamedSpeaker', () => {
  const origins = new Map([
    ['by-joanna', origin('Joanna')],
    ['by-nate', origin('Nate')],
    ['document', origin(null)],
  ]);
  const hits = [
    { id: 'by-joanna', score: 1 },
    { id: 'document', score: 0.9 },
    { id: 'by-nate', score: 0.8 },
  ];

  it("scales the other speakers' turns when the query names one speaker, and re-sorts", () => {
    const focused = focusNamedSpeaker(hits, origins, ['nate', 'tournament'], 0.7);
    expect(focused).toEqual([
      { id: 'document', score: 0.9 },
      { id: 'by-nate', score: 0.8 },
      { id: 'by-joanna', score: 0.7 },
    ]);
  });

  it('changes nothing when the query names no speaker, or both, or the factor is 1', () => {
    expect(focusNamedSpeaker(hits, origins, ['tournament'], 0.7)).toEqual(hits);
    expect(focusNamedSpeaker(hits, origins, ['nate', 'joanna'], 0.7)).toEqual(hits);
    expect(focusNamedSpeaker(hits, origins, ['nate'], 1)).toEqual(hits);
  });

  it('changes nothing when the named speaker is the only one among the hits', () => {
    const alone = new Map([
      ['by-joanna', origin('Nate')],
      ['by-nate', origin('Nate')],
    ]);
    expect(focusNamedSpeaker(hits, alone, ['nate'], 0.5)).toEqual(hits);
  });
});

describe('speaker focus in search', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  /** Joanna names Nate while congratulating him; Nate says what happened, in other words. */
  async function conversation(speakerFocus: number) {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none', retrieval: { speakerFocus } });
    const cube = await os.createCube('chat');
    // Sessions of their own: neither turn is indexed under the other as its context.
    await cube.add({ content: 'I won my third tournament today!', speaker: 'Nate' }, { sessionId: 'day-1' });
    await cube.add(
      { content: 'Congrats on winning the tournament, Nate!', speaker: 'Joanna' },
      { sessionId: 'day-2' },
    );
    const hits = await cube.search('When did Nate win the tournament?', { limit: 2 });
    return hits.map((h) => h.item.content);
  }

  it("ranks the named speaker's own turn above the other speaker's turn that names them", async () => {
    expect((await conversation(0.7))[0]).toBe('I won my third tournament today!');
  });

  it("ranks the turn that shares more of the query's words first when the focus is off", async () => {
    expect((await conversation(1))[0]).toBe('Congrats on winning the tournament, Nate!');
  });
});
