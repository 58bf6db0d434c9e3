import { afterEach, describe, expect, it } from 'vitest';
import { resolveEventDates } from '../../src/ingest/derive/dates.js';
import { parseQueryTime } from '../../src/retrieve/query-time.js';

/**
 * Days are read on the UTC calendar whatever the zone of the process: the same memories must get
 * the same dates, and a question the same window, on a laptop in Auckland and a server at UTC.
 * Node applies a change of `process.env.TZ` at once, so one process can try several zones.
 */
describe('time expressions in any time zone', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  // 23:30 UTC on Sunday 8 May 2022 is already Monday morning at UTC+13 and +14; 11:54 UTC is past
  // midnight the next day at UTC+14, where chrono once read "last night" as two days later.
  const LATE = new Date('2022-05-08T23:30:00Z');
  const NOON = new Date('2022-05-02T11:54:00Z');
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

  function readIn(tz: string) {
    process.env.TZ = tz;
    return {
      dates: [LATE, NOON].flatMap((at) => said.map((text) => resolveEventDates(text, at).map((d) => d.date))),
      windows: asked.map((q) => {
        const w = parseQueryTime(q, LATE);
        return w && [new Date(w.from).toISOString(), new Date(w.to).toISOString()];
      }),
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
      ['2022-06-08'],
      ['2022-05-01'],
      ['2022-04-29'],
      ['2022-05-07'],
      ['2022-05-07'],
      ['2022-05-03'],
      ['2022-05-01'],
      ['2022-04-18'],
      ['2022-06-02'],
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
    'Pacific/Pago_Pago',
  ])('reads the same days in %s', (tz) => {
    expect(readIn(tz)).toEqual(readIn('UTC'));
  });
});
