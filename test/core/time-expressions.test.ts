import { afterEach, describe, expect, it } from 'vitest';
import { resolveEventDates } from '../../src/ingest/derive/dates.js';
import { parseQueryTime } from '../../src/retrieve/query-time.js';

/**
 * Days are read on the UTC calendar whatever the zone of the process: the same memories must get
 * the same dates, and a question the same window, on a laptop in Auckland and a server at UTC.
 * Node applies a change of `process.env.TZ` at once in a process of its own (vitest's forks
 * pool), so one test file can try several zones; `readIn` checks that the zone took.
 */
describe('time expressions in any time zone', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  // 23:30 UTC on Sunday 8 May 2022 is already Monday morning at UTC+12 to +14.
  const LATE = new Date('2022-05-08T23:30:00Z');
  const said = [
    'I ran yesterday',
    'we met last Friday',
    'on 7 May I ran',
    'this weekend',
    'tomorrow',
    'last night',
    'two weeks ago',
    'next month',
  ];
  const asked = ['What did I do last week?', 'What did I do yesterday?', 'What happened in May 2022?'];
  // Expressions whose reading chrono took from the process's zone, each at every 7th hour of a year
  // (so every hour of the day, on every weekday, across both changes of summer time).
  const edgy = [
    'last night',
    'last night at 10pm',
    '10pm last night',
    'this week',
    'this month',
    'on 7 May',
    'in March',
    '5/7',
    'on 7 May from 10pm to 1am',
  ];
  const year = Array.from(
    { length: Math.floor((365 * 24) / 7) },
    (_, i) => new Date(Date.UTC(2022, 0, 1) + i * 7 * 3_600_000),
  );

  function readIn(tz: string) {
    process.env.TZ = tz;
    expect(LATE.getTimezoneOffset() === 0).toBe(tz === 'UTC');
    return {
      dates: said.map((text) => resolveEventDates(text, LATE).map((d) => d.date)),
      windows: asked.map((q) => {
        const w = parseQueryTime(q, LATE);
        return w && [new Date(w.from).toISOString(), new Date(w.to).toISOString()];
      }),
      year: year.map((at) =>
        edgy.map((text) => {
          const w = parseQueryTime(text, at);
          return [resolveEventDates(`I did it ${text}.`, at).map((d) => d.date), w && [w.from, w.to]];
        }),
      ),
    };
  }

  it('reads the days of the UTC calendar', () => {
    const utc = readIn('UTC');
    expect(utc.dates).toEqual([
      ['2022-05-07'],
      ['2022-05-06'],
      ['2022-05-07'],
      ['2022-05-14'],
      ['2022-05-09'],
      ['2022-05-07'],
      ['2022-04-24'],
      // "next month": the month, from its first day.
      ['2022-06-01'],
    ]);
    expect(utc.windows).toEqual([
      ['2022-04-25T00:00:00.000Z', '2022-05-02T00:00:00.000Z'],
      ['2022-05-07T00:00:00.000Z', '2022-05-08T00:00:00.000Z'],
      ['2022-05-01T00:00:00.000Z', '2022-06-01T00:00:00.000Z'],
    ]);
  });

  it.each([
    'Pacific/Kiritimati',
    'Pacific/Auckland',
    'Asia/Tokyo',
    'America/Los_Angeles',
    'America/Santiago',
  ])('reads the same days in %s', (tz) => {
    expect(readIn(tz)).toEqual(readIn('UTC'));
  });
});
