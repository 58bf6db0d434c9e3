import { describe, expect, it } from 'vitest';
import { DEFAULT_INGEST_CONFIG } from '../../src/core/config.js';
import { dateKeys, resolveEventDates } from '../../src/ingest/derive/dates.js';
import { contextOf, deriveKeys } from '../../src/ingest/derive/derive-keys.js';
import { extractEntities } from '../../src/ingest/derive/entities.js';
import { draftEpisodes, withDerivedKeys } from '../../src/ingest/episodes.js';

// Monday 8 May 2023, 13:56 UTC: a LoCoMo-style session time.
const MESSAGE_TIME = new Date(Date.UTC(2023, 4, 8, 13, 56));
const LIMITS = { maxContentChars: 32_000, maxBatch: 10_000 };

describe('resolveEventDates', () => {
  it('resolves relative dates against the message time, not today', () => {
    expect(resolveEventDates('I went to a LGBTQ support group yesterday.', MESSAGE_TIME)).toEqual([
      { text: 'yesterday', date: '2023-05-07' },
    ]);
    expect(resolveEventDates('We ran the charity race last Saturday.', MESSAGE_TIME)).toEqual([
      { text: 'last Saturday', date: '2023-05-06' },
    ]);
    expect(resolveEventDates('I painted that sunrise in May 2022', MESSAGE_TIME)).toEqual([
      { text: 'May 2022', date: '2022-05-01', span: 'month' },
    ]);
  });

  it('keeps a month or a year as that span, not as the day chrono implies', () => {
    const resolved = (text: string) => resolveEventDates(text, MESSAGE_TIME);
    expect(resolved('Last month I cleaned my sneakers.')).toEqual([
      { text: 'Last month', date: '2023-04-01', span: 'month' },
    ]);
    expect(resolved('We moved two months ago.')).toEqual([
      { text: 'two months ago', date: '2023-03-01', span: 'month' },
    ]);
    expect(resolved('Last year was hard.')).toEqual([
      { text: 'Last year', date: '2022-01-01', span: 'year' },
    ]);
    // A day, a weekday or words of days keep the day.
    expect(resolved('Three weeks ago I started.')).toEqual([{ text: 'Three weeks ago', date: '2023-04-17' }]);
    expect(resolved('on 7 May I ran')).toEqual([{ text: 'on 7 May', date: '2023-05-07' }]);
    // "May" after a word that times it is the month; the verb and a name are not.
    expect(resolved("I've been running since May.")).toEqual([
      { text: 'May', date: '2023-05-01', span: 'month' },
    ]);
    expect(resolved('May I join you? I got a card from May. We ate after May left.')).toEqual([]);
  });

  it('keeps absolute dates and ignores bare clock times', () => {
    expect(resolveEventDates('The concert is on 12 June 2023.', MESSAGE_TIME)).toEqual([
      { text: 'on 12 June 2023', date: '2023-06-12' },
    ]);
    expect(resolveEventDates('Call me at 5.', MESSAGE_TIME)).toEqual([]);
    expect(resolveEventDates('No dates here at all.', MESSAGE_TIME)).toEqual([]);
  });

  it('spells a day in the ways people search for it', () => {
    expect(dateKeys({ date: '2023-05-07' })).toBe('2023-05-07 7 May 2023 May 2023 Sunday');
    expect(dateKeys({ date: '2023-04-01', span: 'month' })).toBe('April 2023');
    expect(dateKeys({ date: '2022-01-01', span: 'year' })).toBe('2022');
  });
});

describe('extractEntities', () => {
  it('finds people, places, organisations and acronyms once each, without trailing punctuation', () => {
    const entities = extractEntities(
      'Caroline went to the LGBTQ support group in Boston with Melanie. Caroline loved Boston.',
    );
    expect(entities).toEqual(expect.arrayContaining(['Caroline', 'Melanie', 'Boston', 'LGBTQ']));
    expect(entities.filter((e) => e === 'Caroline')).toHaveLength(1);
    expect(entities.every((e) => !/[.,!?]$/.test(e))).toBe(true);
  });

  it('returns nothing for a text without names', () => {
    expect(extractEntities('yes, that sounds lovely')).toEqual([]);
  });

  it('reads only the first 1,000 characters of a long text', () => {
    const filler = ' and then we walked on for a while'.repeat(40);
    const entities = extractEntities(
      `Caroline met Melanie in Boston${filler} before Oscar came from Lisbon.`,
    );
    expect(entities).toEqual(expect.arrayContaining(['Caroline', 'Melanie', 'Boston']));
    expect(entities).not.toContain('Lisbon');
  });
});

describe('deriveKeys', () => {
  const turn = { speaker: 'Melanie', role: 'user', content: 'Yes, we went camping yesterday with Oscar!' };
  const question = { speaker: 'Caroline', role: 'user', content: 'Did you take the kids camping?' };

  it('indexes an answer with the question before it, the resolved dates and the entities', () => {
    const config = { ...DEFAULT_INGEST_CONFIG, dateKeys: true };
    const { derived, index } = deriveKeys(turn, MESSAGE_TIME.getTime(), [question], config);
    expect(index.text).toBe('Melanie: Yes, we went camping yesterday with Oscar!');
    expect(index.context).toBe('Caroline: Did you take the kids camping?');
    expect(derived.context).toBe('Caroline: Did you take the kids camping?');
    expect(derived.dates).toEqual([{ text: 'yesterday', date: '2023-05-07' }]);
    expect(derived.entities).toContain('Oscar');
    expect(index.keys).toContain('Oscar');
    expect(index.keys).toContain('7 May 2023');
  });

  it('leaves out each key when its switch is off, still resolving the dates', () => {
    const off = {
      ...DEFAULT_INGEST_CONFIG,
      contextKey: false,
      dateKeys: false,
      entityKeys: false,
      compoundKeys: false,
    };
    const { derived, index } = deriveKeys(turn, MESSAGE_TIME.getTime(), [question], off);
    expect(derived).toEqual({
      dates: [{ text: 'yesterday', date: '2023-05-07' }],
      entities: [],
      context: null,
    });
    expect(index).toEqual({
      text: 'Melanie: Yes, we went camping yesterday with Oscar!',
      context: '',
      keys: '',
    });
  });

  it('keys a hyphenated word written as one, so "destress" finds "de-stress"', () => {
    const running = { speaker: 'Melanie', role: 'user', content: "I've been running non-stop to de-stress." };
    const { index } = deriveKeys(running, MESSAGE_TIME.getTime(), [], DEFAULT_INGEST_CONFIG);
    expect(index.keys.split(' ')).toEqual(expect.arrayContaining(['nonstop', 'destress']));
    const off = deriveKeys(running, MESSAGE_TIME.getTime(), [], {
      ...DEFAULT_INGEST_CONFIG,
      compoundKeys: false,
    });
    expect(off.index.keys).not.toContain('destress');
  });

  it('cuts a long previous turn to contextChars', () => {
    const long = { speaker: null, role: 'assistant', content: 'x'.repeat(1000) };
    const { index } = deriveKeys(turn, MESSAGE_TIME.getTime(), [question, long], {
      ...DEFAULT_INGEST_CONFIG,
      contextChars: 40,
    });
    expect(index.context).toBe('x'.repeat(40));
  });
});

describe('contextOf', () => {
  const say = (speaker: string, content: string) => ({ speaker, role: 'user', content });
  const chat = [
    say('Ann', 'I started a pottery class.'),
    say('Bo', 'Oh nice, how is it going?'),
    say('Ann', 'Great!'),
  ];

  const reply = say('Bo', 'Sounds fun!');

  it('takes the nearest turns first, up to contextTurns, and prints them oldest first', () => {
    expect(contextOf(reply, chat, DEFAULT_INGEST_CONFIG)).toBe(
      'Ann: I started a pottery class.\nBo: Oh nice, how is it going?\nAnn: Great!',
    );
    expect(contextOf(reply, chat, { ...DEFAULT_INGEST_CONFIG, contextTurns: 2 })).toBe(
      'Bo: Oh nice, how is it going?\nAnn: Great!',
    );
  });

  it('stops at contextChars, cutting the farthest turn it reaches', () => {
    // 'Ann: Great!' (11) + newline + 'Bo: Oh nice, how is it going?' (29) + newline leave 6.
    expect(contextOf(reply, chat, { ...DEFAULT_INGEST_CONFIG, contextChars: 48 })).toBe(
      'Ann: I\nBo: Oh nice, how is it going?\nAnn: Great!',
    );
    expect(contextOf(reply, chat, { ...DEFAULT_INGEST_CONFIG, contextChars: 8 })).toBe('Ann: Gre');
  });

  it('is null with no turns before, or with the key off', () => {
    expect(contextOf(reply, [], DEFAULT_INGEST_CONFIG)).toBeNull();
    expect(contextOf(reply, chat, { ...DEFAULT_INGEST_CONFIG, contextKey: false })).toBeNull();
  });

  it("is null when every turn it would hold is the turn's own party's: a turn answers someone else", () => {
    const note = (content: string) => ({ speaker: null, role: 'user', content });
    const notes = [note('My cat is called Miso.'), note('I am allergic to peanuts.')];
    expect(contextOf(note('My favourite food is ramen.'), notes, DEFAULT_INGEST_CONFIG)).toBeNull();
    // Roles are parties when turns have no speaker: the assistant's reply answers the user.
    expect(
      contextOf({ speaker: null, role: 'assistant', content: 'Noted.' }, notes, DEFAULT_INGEST_CONFIG),
    ).toBe('My cat is called Miso.\nI am allergic to peanuts.');
    // Ann's own turns nearest hers, Bo's beyond contextTurns: she answers no one.
    expect(contextOf(say('Ann', 'And glazing.'), chat.slice(2), DEFAULT_INGEST_CONFIG)).toBeNull();
    expect(
      contextOf(say('Ann', 'And glazing.'), chat, { ...DEFAULT_INGEST_CONFIG, contextTurns: 1 }),
    ).toBeNull();
    // Bo's turn cut off by contextChars is not in the key, so it does not count.
    expect(
      contextOf(say('Ann', 'And glazing.'), chat, { ...DEFAULT_INGEST_CONFIG, contextChars: 12 }),
    ).toBeNull();
  });
});

describe('withDerivedKeys', () => {
  it('chains the turns of one add: each gets the one before it, the first gets the stored tail', () => {
    const drafts = draftEpisodes(
      [
        { content: 'How was the trip?', speaker: 'Ann' },
        { content: 'Wonderful, thanks.', speaker: 'Bo' },
      ],
      { sessionId: 's1' },
      LIMITS,
      MESSAGE_TIME.getTime(),
    );
    const tail = { speaker: 'Bo', role: 'user', content: 'I just got back from Oslo.' };
    const [first, second] = withDerivedKeys(drafts, [tail], DEFAULT_INGEST_CONFIG);
    expect(first?.derived.context).toBe('Bo: I just got back from Oslo.');
    expect(second?.derived.context).toBe('Bo: I just got back from Oslo.\nAnn: How was the trip?');
    const [, alone] = withDerivedKeys(drafts, [tail], { ...DEFAULT_INGEST_CONFIG, contextTurns: 1 });
    expect(alone?.derived.context).toBe('Ann: How was the trip?');
  });

  it('gives no context to messages outside a session', () => {
    const drafts = draftEpisodes(
      [{ content: 'one thing' }, { content: 'another thing' }],
      undefined,
      LIMITS,
      MESSAGE_TIME.getTime(),
    );
    expect(withDerivedKeys(drafts, [], DEFAULT_INGEST_CONFIG).map((d) => d.derived.context)).toEqual([
      null,
      null,
    ]);
  });
});
