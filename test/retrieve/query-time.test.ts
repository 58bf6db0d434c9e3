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

  it('returns null when the query names no date', () => {
    expect(parseQueryTime('Where did Caroline move from?', ASKED)).toBeNull();
    expect(parseQueryTime('what time is the meeting at 5', ASKED)).toBeNull();
  });
});
