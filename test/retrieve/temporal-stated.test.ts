import { afterEach, describe, expect, it } from 'vitest';
import type { RetrievalConfig } from '../../src/core/config.js';
import type { ChannelName } from '../../src/core/types.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

/** Every text points the same way: the window's ranking by meaning is a tie, so only dates decide. */
const flatEmbedder: Embedder = {
  id: 'test:flat',
  dimensions: async () => 2,
  embed: async (texts) => texts.map(() => Float32Array.from([1, 0])),
};

const at = (date: string, hour = 10) => Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00.000Z`);

describe('the temporal channel and the dates turns say', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  async function diary(retrieval: Partial<RetrievalConfig>) {
    os = await MemoryOS.open({
      ...PLAIN_RETRIEVAL,
      retrieval: { ...PLAIN_RETRIEVAL.retrieval, temporalVector: true, ...retrieval },
      path: ':memory:',
      embedder: flatEmbedder,
    });
    const cube = await os.cube('diary');
    await cube.add({ content: 'Planning the week ahead.', at: at('2023-03-01') }, { sessionId: 'early' });
    // Said on the day the question asks about: small talk first, then the turn that says the day.
    const day = await cube.add(
      [
        { content: 'The weather was lovely this morning.', at: at('2023-03-15', 9) },
        { content: 'I got a smoker today and tried it on ribs.', at: at('2023-03-15', 10) },
      ],
      { sessionId: 'that-day' },
    );
    // Said later, about that day; about another day; and after the day the question is asked.
    const later = await cube.add(
      [
        { content: 'Dinner plans for the weekend.', at: at('2023-03-20') },
        { content: 'Five days ago I hung the new shelves.', at: at('2023-03-20', 11) },
        { content: 'Two days ago I painted the fence.', at: at('2023-03-20', 12) },
        { content: 'Eleven days ago I fixed the sink.', at: at('2023-03-26', 12) },
        { content: 'Ten days ago I mended the gate.', at: at('2023-03-26', 13) },
      ],
      { sessionId: 'later' },
    );
    return {
      cube,
      smallTalk: day.ids[0] as string,
      smoker: day.ids[1] as string,
      shelves: later.ids[1] as string,
    };
  }

  const question = 'What did I do 10 days ago?';
  const asOf = at('2023-03-25', 18);

  it("ranks the window's turns that say a date inside it first, then what was said later about it", async () => {
    const { cube, smoker, shelves, smallTalk } = await diary({ statedDates: true });
    // Not the fence (another day), nor the sink: said the day after the question was asked.
    const hits = await cube.search(question, { channels: ['temporal'], asOf });
    expect(hits.map((h) => h.item.id)).toEqual([smoker, shelves, smallTalk]);
    expect(hits[0]?.item.derived.dates).toEqual([{ text: 'today', date: '2023-03-15' }]);
    // Later the same day as the question counts: a day's sessions may follow the question's time.
    const morning = await cube.search(question, { channels: ['temporal'], asOf: at('2023-03-26', 6) });
    expect(morning.map((h) => h.item.content)).toEqual(['Ten days ago I mended the gate.']);
  });

  it('finds them for a question that is only its time, whose words no channel searches', async () => {
    const { cube, smoker, shelves, smallTalk } = await diary({ statedDates: true, dropTimeWords: true });
    const hits = await cube.search(question, { channels: ['temporal'], asOf });
    expect(hits.map((h) => h.item.id)).toEqual([smoker, shelves, smallTalk]);
  });

  it('finds a plan said before the window by the date it states', async () => {
    const { cube, smoker } = await diary({ statedDates: true, dropTimeWords: true });
    const [plan] = (
      await cube.add(
        { content: 'I booked the dentist for March 15.', at: at('2023-03-01', 12) },
        { sessionId: 'early' },
      )
    ).ids;
    const hits = await cube.search('What did I do at the dentist 10 days ago?', {
      channels: ['temporal'],
      asOf,
    });
    // After the turns said in the window that state it, before those that merely were said then.
    expect(hits.map((h) => h.item.id).slice(0, 2)).toEqual([smoker, plan]);
    // A plan that names more than the window (all of March) is not about its day.
    const [vague] = (
      await cube.add(
        { content: 'Next month the dentist visit is due.', at: at('2023-02-01', 12) },
        { sessionId: 'february' },
      )
    ).ids;
    const again = await cube.search('What did I do at the dentist 10 days ago?', {
      channels: ['temporal'],
      asOf,
    });
    expect(again.map((h) => h.item.id)).not.toContain(vague);
  });

  it('keeps the time words of a question that is only its time when nothing ranks the window by meaning', async () => {
    const asked = async (dropTimeWords: boolean) => {
      const { cube } = await diary({ statedDates: true, dropTimeWords, temporalVector: false });
      const found = await cube.search(question, { channels: ['temporal'], asOf });
      await os?.close();
      os = undefined;
      return found;
    };
    const hits = await asked(true);
    const kept = await asked(false);
    expect(hits.map((h) => h.item.content)).toEqual(kept.map((h) => h.item.content));
    expect(hits.length).toBeGreaterThan(0);
  });

  it('keeps the order under fusion by score: each group scores below the one before', async () => {
    const { cube, smoker, shelves, smallTalk } = await diary({ statedDates: true, fusion: 'score' });
    const hits = await cube.search(question, { channels: ['temporal'], asOf });
    expect(hits.map((h) => h.item.id)).toEqual([smoker, shelves, smallTalk]);
    const scores = hits.map((h) => h.channels.temporal?.score ?? 0);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('counts a stated month as stated on every day of it: "last month" overlaps a window of one day', async () => {
    const { cube } = await diary({ statedDates: true });
    const [chores] = (
      await cube.add(
        { content: 'Last month I cleaned the gutters.', at: at('2023-04-04') },
        { sessionId: 'april' },
      )
    ).ids;
    const [item] = await cube.search('gutters', { channels: ['lexical'] });
    expect(item?.item.derived.dates).toEqual([{ text: 'Last month', date: '2023-03-01', span: 'month' }]);
    // A day of March, asked about in April: said after the window, and stating a month that holds it.
    const hits = await cube.search('What did I clean on 15 March 2023?', {
      channels: ['temporal'],
      asOf: at('2023-04-10'),
    });
    expect(hits.map((h) => h.item.id)).toContain(chores);
  });

  it('without it, ranks the turns said in the window alone, by the order of words and meaning', async () => {
    const { cube, smoker, smallTalk } = await diary({ statedDates: false });
    const hits = await cube.search(question, { channels: ['temporal'], asOf });
    expect(new Set(hits.map((h) => h.item.id))).toEqual(new Set([smoker, smallTalk]));
  });
});

describe('the words of the time a query names', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
  });

  async function diaryOfWords(contents: string[], dropTimeWords = true) {
    os = await MemoryOS.open({
      ...PLAIN_RETRIEVAL,
      retrieval: { ...PLAIN_RETRIEVAL.retrieval, dropTimeWords },
      path: ':memory:',
      embedder: 'none',
    });
    const cube = await os.cube('diary');
    await cube.add(contents.map((content) => ({ content, at: at('2023-02-02') })));
    return cube;
  }

  /** What the lexical channel found, by content. */
  async function foundByWords(
    cube: Awaited<ReturnType<typeof diaryOfWords>>,
    query: string,
    channels: ChannelName[] = ['lexical', 'temporal'],
  ): Promise<Set<string>> {
    const hits = await cube.search(query, { channels, asOf: at('2023-09-01') });
    return new Set(hits.filter((h) => h.channels.lexical).map((h) => h.item.content));
  }

  const nostalgia = 'Those were the days, weeks of sunshine ago.';
  const blender = 'Time to buy a blender.';

  it('are not searched as words: "weeks ago" names a time, which the temporal channel searches', async () => {
    const cube = await diaryOfWords([nostalgia, blender]);
    expect(await foundByWords(cube, 'What did I buy two weeks ago?')).toEqual(new Set([blender]));
  });

  it('are searched with dropTimeWords false', async () => {
    const cube = await diaryOfWords([nostalgia, blender], false);
    expect(await foundByWords(cube, 'What did I buy two weeks ago?')).toEqual(new Set([nostalgia, blender]));
  });

  it('are searched when the temporal channel does not run: nothing else would search that time', async () => {
    const cube = await diaryOfWords([nostalgia, blender]);
    expect(await foundByWords(cube, 'What did I buy two weeks ago?', ['lexical'])).toEqual(
      new Set([nostalgia, blender]),
    );
  });

  it('are cut where the query says them, so the same word elsewhere in it is still searched', async () => {
    const cube = await diaryOfWords(['That week was busy.']);
    expect(await foundByWords(cube, 'Which week did I mention a week ago?')).toEqual(
      new Set(['That week was busy.']),
    );
  });

  it('are kept when the time names a month or a year, which means the same in any turn', async () => {
    const cube = await diaryOfWords(['The May fair had a pie contest.', blender]);
    expect(await foundByWords(cube, 'What did I buy in May 2023?')).toEqual(
      new Set(['The May fair had a pie contest.', blender]),
    );
  });
});
