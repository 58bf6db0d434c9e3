import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/types.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { lexicalTerms } from '../../src/retrieve/query-terms.js';
import {
  asksAboutAsker,
  capitalisedTerms,
  focusOnSubject,
  namedSpeakers,
  speakerNamesIn,
} from '../../src/retrieve/speakers.js';
import type { ItemOrigin } from '../../src/store/store.js';

const origin = (speaker: string | null, role: Role | null = 'user'): ItemOrigin => ({
  session: 's',
  speaker,
  role,
});

describe('namedSpeakers', () => {
  it('keeps the speakers whose name is among the query terms, once each', () => {
    expect(namedSpeakers(['Melanie', 'Caroline', 'Melanie', null], ['melanie', 'kids'])).toEqual(['Melanie']);
    expect(namedSpeakers(['Jon Smith', 'Gina'], ['smith', 'gina'])).toEqual(['Jon Smith', 'Gina']);
    expect(namedSpeakers(['Melanie'], ['kids'])).toEqual([]);
  });

  it('reads a name with or without its accents, as the full-text index does', () => {
    expect(namedSpeakers(['José', 'Zoë'], ['jose', 'zoe'])).toEqual(['José', 'Zoë']);
    expect(namedSpeakers(['Jose'], ['josé'])).toEqual(['Jose']);
    expect(namedSpeakers(['Josée'], ['jose'])).toEqual([]);
    expect(namedSpeakers(['İlker'], lexicalTerms('What did İlker cook?'))).toEqual(['İlker']);
  });
});

describe('speakerNamesIn', () => {
  const chat = [origin('Melanie'), origin('Jon Smith'), origin('Bill'), origin(null)];
  const namesIn = (query: string, origins: ItemOrigin[]) => speakerNamesIn(capitalisedTerms(query), origins);

  it("gives the search words of the speakers' names the query writes capitalised", () => {
    expect(namesIn("What do Melanie's kids like?", chat)).toEqual(new Set(['melanie']));
    expect(namesIn('What did Jon Smith and Bill build?', chat)).toEqual(new Set(['jon', 'smith', 'bill']));
    expect(namesIn('What did Caroline paint?', chat)).toEqual(new Set());
    expect(namesIn('Where did Mary-Jane go?', [origin('Mary-Jane')])).toEqual(
      new Set(['mary', 'jane', 'maryjane']),
    );
  });

  it("gives the query's own word for a name written without its accent", () => {
    expect(namesIn('What did Jose cook?', [origin('José')])).toEqual(new Set(['jose']));
    expect(namesIn('What did José cook?', [origin('José')])).toEqual(new Set(['josé']));
  });

  it("leaves a speaker's name written as an ordinary word alone, and finds nothing without speakers", () => {
    expect(namesIn('Who paid the restaurant bill?', chat)).toEqual(new Set());
    expect(capitalisedTerms('What did I buy?')).toEqual([]);
    expect(namesIn('What did Melanie paint?', [origin(null, 'assistant')])).toEqual(new Set());
  });
});

describe('asksAboutAsker', () => {
  it('is true for a first-person question addressed to no one', () => {
    expect(asksAboutAsker('What kitchen appliance did I buy 10 days ago?')).toBe(true);
    expect(asksAboutAsker('Where is my passport?')).toBe(true);
    expect(asksAboutAsker('What did you recommend to me?')).toBe(false);
    expect(asksAboutAsker('What did Nate win?')).toBe(false);
    expect(asksAboutAsker('Is it mine or yours?')).toBe(false);
  });
});

describe('focusOnSubject', () => {
  const origins = new Map([
    ['by-joanna', origin('Joanna')],
    ['by-nate', origin('Nate')],
    ['document', origin(null, null)],
  ]);
  const hits = [
    { id: 'by-joanna', score: 1 },
    { id: 'document', score: 0.9 },
    { id: 'by-nate', score: 0.8 },
  ];
  const question = 'When did Nate win the tournament?';

  it("scales the other speakers' turns when the query names one speaker, and re-sorts", () => {
    expect(focusOnSubject(hits, origins, question, ['nate', 'win', 'tournament'], 0.7)).toEqual([
      { id: 'document', score: 0.9 },
      { id: 'by-nate', score: 0.8 },
      { id: 'by-joanna', score: 0.7, focus: { subject: 'speaker', name: 'Nate', factor: 0.7 } },
    ]);
  });

  it('changes nothing when the query names no speaker, or both, or the factor is 1', () => {
    expect(focusOnSubject(hits, origins, 'Who won?', ['won'], 0.7)).toEqual(hits);
    expect(focusOnSubject(hits, origins, 'Did Nate or Joanna win?', ['nate', 'joanna', 'win'], 0.7)).toEqual(
      hits,
    );
    expect(focusOnSubject(hits, origins, question, ['nate'], 1)).toEqual(hits);
  });

  it('changes nothing for a first-person question that names a speaker: it is about both', () => {
    expect(focusOnSubject(hits, origins, 'What did I tell Nate?', ['tell', 'nate'], 0.7)).toEqual(hits);
  });

  it('changes nothing when the named speaker is the only one among the hits', () => {
    const alone = new Map([
      ['by-joanna', origin('Nate')],
      ['by-nate', origin('Nate')],
    ]);
    expect(focusOnSubject(hits, alone, question, ['nate'], 0.5)).toEqual(hits);
  });

  const chat = new Map([
    ['assistant-answer', origin(null, 'assistant')],
    ['user-turn', origin(null, 'user')],
    ['note', origin(null, null)],
  ]);
  const chatHits = [
    { id: 'assistant-answer', score: 1 },
    { id: 'user-turn', score: 0.8 },
    { id: 'note', score: 0.75 },
  ];

  it("scales the other roles' turns when the question asks about the asker", () => {
    expect(focusOnSubject(chatHits, chat, 'What smoker did I buy?', ['smoker', 'buy'], 0.5)).toEqual([
      { id: 'user-turn', score: 0.8 },
      { id: 'note', score: 0.75 },
      { id: 'assistant-answer', score: 0.5, focus: { subject: 'role', name: 'user', factor: 0.5 } },
    ]);
  });

  it('leaves roles alone for a question to the assistant, or when only one role is among the hits', () => {
    expect(
      focusOnSubject(chatHits, chat, 'What smoker did you suggest to me?', ['smoker', 'suggest'], 0.5),
    ).toEqual(chatHits);
    const usersOnly = new Map([...chat].map(([id, o]) => [id, { ...o, role: 'user' as const }]));
    expect(focusOnSubject(chatHits, usersOnly, 'What smoker did I buy?', ['smoker', 'buy'], 0.5)).toEqual(
      chatHits,
    );
    // No user turn among the hits: lowering the assistant's would only reorder it below the notes.
    const noUser = new Map([...chat].filter(([id]) => id !== 'user-turn'));
    const withoutUser = chatHits.filter((h) => h.id !== 'user-turn');
    expect(focusOnSubject(withoutUser, noUser, 'What smoker did I buy?', ['smoker', 'buy'], 0.5)).toEqual(
      withoutUser,
    );
  });
});

describe('subject focus in search', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  async function openCube(speakerFocus: number, sessionBoost?: number) {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      retrieval: { speakerFocus, ...(sessionBoost === undefined ? {} : { sessionBoost }) },
    });
    return os.createCube('chat');
  }

  /** Joanna names Nate while congratulating him; Nate says what happened, in other words. */
  async function tournament(speakerFocus: number, sessionBoost?: number) {
    const cube = await openCube(speakerFocus, sessionBoost);
    // Sessions of their own: neither turn is indexed under the other as its context.
    await cube.add({ content: 'I won my third tournament today!', speaker: 'Nate' }, { sessionId: 'day-1' });
    await cube.add(
      { content: 'Congrats on winning the tournament, Nate!', speaker: 'Joanna' },
      { sessionId: 'day-2' },
    );
    const hits = await cube.search('When did Nate win the tournament?', { limit: 2 });
    return hits.map((h) => ({ content: h.item.content, focus: h.focus }));
  }

  it("ranks the named speaker's own turn above the other speaker's turn that names them, and says so", async () => {
    const lowered = { subject: 'speaker', name: 'Nate', factor: 0.7 };
    expect(await tournament(0.7)).toEqual([
      { content: 'I won my third tournament today!', focus: undefined },
      { content: 'Congrats on winning the tournament, Nate!', focus: lowered },
    ]);
    expect((await tournament(0.7, 0))[0]?.content).toBe('I won my third tournament today!');
  });

  it("ranks the turn that shares more of the query's words first when the focus is off", async () => {
    expect(await tournament(1)).toEqual([
      { content: 'Congrats on winning the tournament, Nate!', focus: undefined },
      { content: 'I won my third tournament today!', focus: undefined },
    ]);
  });

  /** The assistant's answer repeats the question's words; the user's turn says what they bought. */
  async function smoker(speakerFocus: number) {
    const cube = await openCube(speakerFocus);
    await cube.add({ content: 'I just got a smoker for the kitchen.', role: 'user' }, { sessionId: 'day-1' });
    await cube.add(
      {
        content: 'A smoker is a great kitchen appliance to buy: here is how to pick one.',
        role: 'assistant',
      },
      { sessionId: 'day-2' },
    );
    const hits = await cube.search('What kitchen appliance did I buy?', { limit: 2 });
    return hits.map((h) => h.item.role);
  }

  it("ranks the user's own turn first when the question asks about the asker", async () => {
    expect(await smoker(0.7)).toEqual(['user', 'assistant']);
    expect(await smoker(1)).toEqual(['assistant', 'user']);
  });
});

describe("speakers' names as search words", () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  const day = (date: string) => Date.parse(`${date}T10:00:00.000Z`);

  /** Each turn's channel scores, by content, for `query` (asked on 2023-06-01). */
  async function channelScores(
    dropSpeakerNames: boolean | undefined,
    query: string,
    lexicalScoreFloor?: number,
  ) {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      retrieval: {
        ...(dropSpeakerNames === undefined ? {} : { dropSpeakerNames }),
        ...(lexicalScoreFloor === undefined ? {} : { lexicalScoreFloor }),
      },
    });
    const cube = await os.createCube('chat');
    await cube.add(
      { content: 'I signed up for a pottery class.', speaker: 'Melanie', at: day('2023-05-10') },
      { sessionId: 'day-1' },
    );
    await cube.add(
      { content: 'Melanie, how was the class, Melanie?', speaker: 'Sam', at: day('2023-05-12') },
      { sessionId: 'day-2' },
    );
    for (const [i, content] of [
      'The lake was lovely.',
      'My dog chased a ball.',
      'We baked bread.',
    ].entries()) {
      await cube.add(
        { content, speaker: 'Sam', at: day(`2023-04-0${i + 1}`) },
        { sessionId: `day-${3 + i}` },
      );
    }
    const hits = await cube.search(query, { limit: 10, asOf: day('2023-06-01') });
    const scores = new Map(
      hits.map((h) => [
        h.item.content,
        { lexical: h.channels.lexical?.score, temporal: h.channels.temporal?.score },
      ]),
    );
    await os.close();
    os = undefined;
    return scores;
  }
  const pottery = 'I signed up for a pottery class.';
  const asked = 'Melanie, how was the class, Melanie?';

  /** `channel` scores both turns of the class for `named` as for `unnamed`, the same query without the name. */
  async function expectNameIgnored(
    channel: 'lexical' | 'temporal',
    named: string,
    unnamed: string,
    dropSpeakerNames?: boolean,
  ) {
    const withName = await channelScores(dropSpeakerNames, named);
    const without = await channelScores(true, unnamed);
    expect(withName.get(pottery)?.[channel]).toBeGreaterThan(0);
    for (const turn of [pottery, asked])
      expect(withName.get(turn)?.[channel]).toBe(without.get(turn)?.[channel]);
    return withName;
  }

  it('searches the words of a query that names a speaker as if the name were not there, by default', async () => {
    await expectNameIgnored('lexical', 'Which class is Melanie taking?', 'Which class is taking?');
  });

  it('drops the name inside the time window too', async () => {
    const named = await expectNameIgnored(
      'temporal',
      'Which class did Melanie take in May 2023?',
      'Which class did take in May 2023?',
      true,
    );
    // April's turns are outside the window.
    expect(named.get('We baked bread.')?.temporal).toBeUndefined();
  });

  it("no longer finds a speaker's turns by the name alone; switched off, it does (without the floor)", async () => {
    // Sam's bread turn shares no word with the question but the name its speaker line carries.
    const question = 'Which class did Sam ask about?';
    expect((await channelScores(true, question, 0)).has('We baked bread.')).toBe(false);
    expect((await channelScores(false, question, 0)).get('We baked bread.')?.lexical).toBeGreaterThan(0);
    // With the floor (the default) too: a cube this small weighs its words as one of 100 rows
    // would, so the name in 4 of its 5 turns still counts, and only the name step leaves it out.
    expect((await channelScores(false, question)).has('We baked bread.')).toBe(true);
  });

  it('counts the name as a word when switched off, and when the query is nothing but a name', async () => {
    const asWord = await channelScores(false, 'Which class is Melanie taking?');
    const without = await channelScores(false, 'Which class is taking?');
    expect(asWord.get(asked)?.lexical).toBeGreaterThan(without.get(asked)?.lexical ?? 0);
    expect((await channelScores(true, 'Melanie')).get(asked)?.lexical).toBeGreaterThan(0);
  });
});
