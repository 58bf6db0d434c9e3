import { describe, expect, it } from 'vitest';
import { parseQueryTime } from '../../src/retrieve/query-time.js';

const ASKED = new Date(Date.UTC(2023, 5, 15, 12, 0)); // Thursday 15 June 2023
const END_OF_MARCH = new Date(Date.UTC(2023, 2, 31, 12, 0));
const LEAP_DAY = new Date(Date.UTC(2024, 1, 29, 12, 0));

/** The window a query names as [first day, day after the last], in UTC dates; null for none. */
function days(query: string, asOf = ASKED): [string, string] | null {
  const window = parseQueryTime(query, asOf);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return window ? [day(window.from), day(window.to)] : null;
}

describe('parseQueryTime', () => {
  it('turns a named month into that whole month', () => {
    expect(days('What did Caroline do in May 2023?')).toEqual(['2023-05-01', '2023-06-01']);
  });

  it('turns a day into that day, and a relative day into the day it means when asked', () => {
    expect(days('what happened on 7 May 2023')).toEqual(['2023-05-07', '2023-05-08']);
    expect(days('what did I eat yesterday')).toEqual(['2023-06-14', '2023-06-15']);
  });

  it.each([
    ['What did I cook over the past two weeks?', '2023-06-01'],
    ['which films did I see in the last 3 days', '2023-06-12'],
    ['what did I buy in the past month', '2023-05-15'],
    // A vague count stands for a typical one: "few" for three.
    ['how many books did I read in the past few months', '2023-03-15'],
  ])('turns "%s" into the span up to the day asked, not one day back', (query, from) => {
    expect(days(query)).toEqual([from, '2023-06-16']);
  });

  it('goes back whole months to the same day, or to the last day of a shorter month', () => {
    expect(days('what did I spend in the past month', END_OF_MARCH)).toEqual(['2023-02-28', '2023-04-01']);
    expect(days('my runs over the last twelve months', END_OF_MARCH)).toEqual(['2022-03-31', '2023-04-01']);
    expect(days('books I read in the past year', LEAP_DAY)).toEqual(['2023-02-28', '2024-03-01']);
  });

  it('turns "a few weeks ago" into a stretch around three weeks back, and "3 weeks ago" into that day', () => {
    expect(days('I started a course a few weeks ago; which one?')).toEqual(['2023-05-18', '2023-06-02']);
    expect(days('what did I start 3 weeks ago')).toEqual(['2023-05-25', '2023-05-26']);
  });

  it('turns "last week" and "this week" into calendar weeks from Monday, and keeps "last month" the calendar month', () => {
    expect(days('where did I go last week')).toEqual(['2023-06-05', '2023-06-12']);
    expect(days('what have I planned this week')).toEqual(['2023-06-12', '2023-06-19']);
    expect(days('what did I do last month')).toEqual(['2023-05-01', '2023-06-01']);
  });

  it('says where the time is in the query, and whether it counts from when the question is asked', () => {
    expect(parseQueryTime('What did I buy 10 days ago?', ASKED)).toMatchObject({
      text: '10 days ago',
      index: 15,
      relative: true,
    });
    expect(parseQueryTime('What did I read last month?', ASKED)).toMatchObject({ relative: true });
    expect(parseQueryTime('What did I read in the past two weeks?', ASKED)).toMatchObject({ relative: true });
    expect(parseQueryTime('What did I buy in May 2023?', ASKED)).toMatchObject({ relative: false });
    expect(parseQueryTime('What did Nate do on 25 May, 2022?', ASKED)).toMatchObject({ relative: false });
  });

  it('reads a year said alone after a preposition, and "next week" as the calendar week after this one', () => {
    expect(days('What did I do in 2022?')).toEqual(['2022-01-01', '2023-01-01']);
    expect(days('what did I read in 2022 and why')).toEqual(['2022-01-01', '2023-01-01']);
    expect(days('What did I learn in 2022 about cooking?')).toEqual(['2022-01-01', '2023-01-01']);
    expect(days('photos from the summer of 2022')).toEqual(['2022-01-01', '2023-01-01']);
    // A number of things is no year, and a year not after a preposition is not read alone.
    expect(days('the 2022 results')).toBeNull();
    expect(days('I ran in 2000 meters races')).toBeNull();
    expect(days('a diet of 2000 calories')).toBeNull();
    // A clock time names no window: the year after it still does.
    expect(days('what did I eat before 9pm in 2022?')).toEqual(['2022-01-01', '2023-01-01']);
    expect(days('what have I planned for next week')).toEqual(['2023-06-19', '2023-06-26']);
    // A weekend is its Saturday and Sunday, asked any day of the week.
    expect(days('what did I do last weekend')).toEqual(['2023-06-10', '2023-06-12']);
    expect(days('what did I do last weekend', new Date(Date.UTC(2023, 5, 18, 20)))).toEqual([
      '2023-06-10',
      '2023-06-12',
    ]);
    expect(days('what is on this weekend')).toEqual(['2023-06-17', '2023-06-19']);
    expect(days('what did I do this past weekend')).toEqual(['2023-06-10', '2023-06-12']);
    expect(days('what have I planned for next weekend')).toEqual(['2023-06-24', '2023-06-26']);
  });

  it('opens a time at one end for "before", "until", "after" and "since", and joins "between … and …"', () => {
    const open = (query: string) => {
      const window = parseQueryTime(query, ASKED);
      return (
        window && [
          window.from < Date.UTC(1900, 0, 1) ? 'open' : new Date(window.from).toISOString().slice(0, 10),
          new Date(window.to).toISOString().slice(0, 10),
        ]
      );
    };
    expect(open('Where did I live before May 2023?')).toEqual(['open', '2023-05-01']);
    expect(open('what had I read until May 2023')).toEqual(['open', '2023-06-01']);
    // "by" a day asks about that day ("How many had he won by 10 May?"): the day itself.
    expect(open('how many had I read by 10 May 2023')).toEqual(['2023-05-10', '2023-05-11']);
    expect(open('what did I buy after March 2023')).toEqual(['2023-04-01', '2023-06-16']);
    expect(open('what have I cooked since March 2023')).toEqual(['2023-03-01', '2023-06-16']);
    expect(open('where did I travel between March and May 2023')).toEqual(['2023-03-01', '2023-06-01']);
    expect(open('before 2022, where did I work?')).toEqual(['open', '2022-01-01']);
    expect(open('where did I work prior to 2022?')).toEqual(['open', '2022-01-01']);
    expect(open('where did I work between 2019 and 2021?')).toEqual(['2019-01-01', '2022-01-01']);
    expect(open('where did I work from 2019 to 2021?')).toEqual(['2019-01-01', '2022-01-01']);
    expect(open('where did I work from 2019 till 2021?')).toEqual(['2019-01-01', '2022-01-01']);
    // A month without its year takes the year that puts the two in order.
    expect(open('where did I travel between April and July')).toEqual(['2023-04-01', '2023-08-01']);
    const later = new Date(Date.UTC(2024, 5, 15));
    const joined = parseQueryTime('where did I travel between March and May 2023', later);
    expect(joined && [joined.from, joined.to]).toEqual([Date.UTC(2023, 2, 1), Date.UTC(2023, 5, 1)]);
    // The words that set the window are still the time's own.
    expect(parseQueryTime('Where did I live before May 2023?', ASKED)).toMatchObject({
      text: 'May 2023',
      relative: false,
    });
  });

  it('reads a month named without its year as the last one, not one after the question', () => {
    // Asked on 15 June 2023: "March" is March 2023, "September" September 2022.
    expect(days('what did I cook in September?')).toEqual(['2022-09-01', '2022-10-01']);
    expect(days('what have I cooked since March?')).toEqual(['2023-03-01', '2023-06-16']);
    expect(days('what did I buy after September?')).toEqual(['2022-10-01', '2023-06-16']);
    // A day ahead said as one ("tomorrow", "on June 20") is still ahead: plans are asked about too.
    expect(days('what is planned for tomorrow')).toEqual(['2023-06-16', '2023-06-17']);
    expect(days('what is on for June 20?')).toEqual(['2023-06-20', '2023-06-21']);
  });

  it('reads "May" as the month after a word that times it, not as the verb or a name', () => {
    expect(days('what did I cook since May?')).toEqual(['2023-05-01', '2023-06-16']);
    expect(days('where did I travel between May and June')).toEqual(['2023-05-01', '2023-07-01']);
    expect(days('where did I travel between March and May')).toEqual(['2023-03-01', '2023-06-01']);
    expect(days('what did I read from May to the end of June')).toEqual(['2023-05-01', '2023-06-01']);
    expect(days('what did I read during May')).toEqual(['2023-05-01', '2023-06-01']);
    expect(days('what did I cook after May?')).toEqual(['2023-06-01', '2023-06-16']);
    // The verb, and a name: a person's "May" is followed by a verb, or joined to another person.
    expect(days('May I ask what I cooked?')).toBeNull();
    expect(days('what did I get from May?')).toBeNull();
    expect(days("what did I bring to May's party")).toBeNull();
    expect(days('what did I say after May left?')).toBeNull();
    expect(days('what did I send in a letter from Bob to May?')).toBeNull();
    expect(days('what was the fight between Bob and May about?')).toBeNull();
    expect(days('what did I get in a card from May to Bob?')).toBeNull();
  });

  it('returns null when the query names no date', () => {
    expect(days('Where did Caroline move from?')).toBeNull();
    expect(days('what time is the meeting at 5')).toBeNull();
  });
});
