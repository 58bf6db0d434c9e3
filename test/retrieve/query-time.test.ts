import { describe, expect, it } from 'vitest';
import { parseQueryTime } from '../../src/retrieve/query-time.js';

const ASKED = new Date(Date.UTC(2023, 5, 15, 12, 0)); // Thursday 15 June 2023
const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

describe('parseQueryTime', () => {
  it('turns a named month into that whole month', () => {
    expect(parseQueryTime('What did Caroline do in May 2023?', ASKED)).toMatchObject({
      from: utc(2023, 5, 1),
      to: utc(2023, 6, 1),
    });
  });

  it('turns a day into that day, and a relative day into the day it means when asked', () => {
    expect(parseQueryTime('what happened on 7 May 2023', ASKED)).toMatchObject({
      from: utc(2023, 5, 7),
      to: utc(2023, 5, 8),
    });
    expect(parseQueryTime('what did I eat yesterday', ASKED)).toMatchObject({
      from: utc(2023, 6, 14),
      to: utc(2023, 6, 15),
    });
  });

  it('turns "past two weeks" and "last 3 days" into the span up to the day asked, not one day back', () => {
    expect(parseQueryTime('What did I cook over the past two weeks?', ASKED)).toMatchObject({
      from: utc(2023, 6, 1),
      to: utc(2023, 6, 16),
    });
    expect(parseQueryTime('which films did I see in the last 3 days', ASKED)).toMatchObject({
      from: utc(2023, 6, 12),
      to: utc(2023, 6, 16),
    });
    expect(parseQueryTime('what did I buy in the past month', ASKED)).toMatchObject({
      from: utc(2023, 5, 15),
      to: utc(2023, 6, 16),
    });
    // A vague count stands for a typical one: "few" for three.
    expect(parseQueryTime('how many books did I read in the past few months', ASKED)).toMatchObject({
      from: utc(2023, 3, 15),
      to: utc(2023, 6, 16),
    });
  });

  it('goes back whole months to the same day, or to the last day of a shorter month', () => {
    const endOfMarch = new Date(Date.UTC(2023, 2, 31, 12, 0));
    expect(parseQueryTime('what did I spend in the past month', endOfMarch)).toMatchObject({
      from: utc(2023, 2, 28),
      to: utc(2023, 4, 1),
    });
    expect(parseQueryTime('my runs over the last twelve months', endOfMarch)).toMatchObject({
      from: utc(2022, 3, 31),
      to: utc(2023, 4, 1),
    });
    const leapDay = new Date(Date.UTC(2024, 1, 29, 12, 0));
    expect(parseQueryTime('books I read in the past year', leapDay)).toMatchObject({
      from: utc(2023, 2, 28),
      to: utc(2024, 3, 1),
    });
  });

  it('turns "a few weeks ago" into a stretch around three weeks back, and "3 weeks ago" into that day', () => {
    expect(parseQueryTime('I started a course a few weeks ago; which one?', ASKED)).toMatchObject({
      from: utc(2023, 5, 18),
      to: utc(2023, 6, 2),
    });
    expect(parseQueryTime('what did I start 3 weeks ago', ASKED)).toMatchObject({
      from: utc(2023, 5, 25),
      to: utc(2023, 5, 26),
    });
  });

  it('turns "last week" and "this week" into calendar weeks from Monday, and keeps "last month" the calendar month', () => {
    expect(parseQueryTime('where did I go last week', ASKED)).toMatchObject({
      from: utc(2023, 6, 5),
      to: utc(2023, 6, 12),
    });
    expect(parseQueryTime('what have I planned this week', ASKED)).toMatchObject({
      from: utc(2023, 6, 12),
      to: utc(2023, 6, 19),
    });
    expect(parseQueryTime('what did I do last month', ASKED)).toMatchObject({
      from: utc(2023, 5, 1),
      to: utc(2023, 6, 1),
    });
  });

  it('returns null when the query names no date', () => {
    expect(parseQueryTime('Where did Caroline move from?', ASKED)).toBeNull();
    expect(parseQueryTime('what time is the meeting at 5', ASKED)).toBeNull();
  });
});
