import type * as chrono from 'chrono-node';
import { JOIN_WORD, parseTimeExpressions, utcDayOf } from '../core/time-expressions.js';

export interface TimeWindow {
  from: number;
  to: number;
  /** The words of the query that set the window. */
  text: string;
  /** Where those words start in the query. */
  index: number;
  /**
   * Whether the words count from when the question is asked ("10 days ago", "last month"), so
   * that in a memory they would mean other days; a month's name or a year ("May 2023") does not.
   */
  relative: boolean;
}

/** A month's name or a year: a time written this way names the same days whoever says it. */
const CALENDAR_NAME =
  /\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|\d{4})\b/i;

const DAY = 86_400_000;

/** The span a partly known date stands for: a day, a month or a year. */
function spanOf(components: chrono.ParsedComponents): 'day' | 'month' | 'year' {
  if (components.isCertain('day') || components.isCertain('weekday')) return 'day';
  if (components.isCertain('month')) return 'month';
  return 'year';
}

function startOf(date: Date, span: 'day' | 'month' | 'year'): number {
  const y = date.getUTCFullYear();
  if (span === 'year') return Date.UTC(y, 0, 1);
  if (span === 'month') return Date.UTC(y, date.getUTCMonth(), 1);
  return Date.UTC(y, date.getUTCMonth(), date.getUTCDate());
}

function endOf(date: Date, span: 'day' | 'month' | 'year'): number {
  const y = date.getUTCFullYear();
  if (span === 'year') return Date.UTC(y + 1, 0, 1);
  if (span === 'month') return Date.UTC(y, date.getUTCMonth() + 1, 1);
  return Date.UTC(y, date.getUTCMonth(), date.getUTCDate()) + DAY;
}

type Unit = 'day' | 'week' | 'month' | 'year';

/** Counts said in words; the vague ones stand for a typical number. */
const COUNTS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  couple: 2,
  few: 3,
  several: 4,
};
const COUNT = String.raw`(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a\s+)?(?:couple|few|several))(?:\s+of)?`;
/** "past two weeks", "last 3 days", "past few months", "past month": the span up to when asked. */
const SPAN_TO_NOW = new RegExp(
  String.raw`^(?:the\s+)?(?:(?:past|last|previous)\s+${COUNT}|past)\s+(day|week|month|year)s?$`,
  'i',
);
/** "a few weeks ago": a vague count names a stretch of time, not one day. */
const VAGUE_AGO = /^(?:a\s+)?(couple|few|several)(?:\s+of)?\s+(day|week|month|year)s?\s+ago$/i;

function countOf(word: string): number {
  const key = word.toLowerCase().replace(/^a\s+/, '');
  return COUNTS[key] ?? Number(key);
}

/** The moment `count` units before `date`, at the start of its day. */
function unitsBefore(date: Date, count: number, unit: Unit): number {
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  // The same day of the month, or the month's last when it is shorter (31 March - 1 month: 28 February).
  const sameDay = (year: number, month: number) =>
    Date.UTC(year, month, Math.min(d, new Date(Date.UTC(year, month + 1, 0)).getUTCDate()));
  if (unit === 'year') return sameDay(y - count, m);
  if (unit === 'month') return sameDay(y, m - count);
  return Date.UTC(y, m, d - count * (unit === 'week' ? 7 : 1));
}

/** Monday 00:00 UTC of the week `date` falls in. */
function startOfWeek(date: Date): number {
  return Date.UTC(
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate() - ((date.getUTCDay() + 6) % 7),
  );
}

/** Which week's weekend, counted from this one. */
const WEEKEND_WEEKS = { last: -1, previous: -1, past: -1, 'this past': -1, this: 0, next: 1 } as const;

/**
 * Windows chrono reads as one day or a whole year, though the words name a stretch of time: a span
 * up to now ("past two weeks": chrono gives the one day two weeks back), a vague count ago ("a few
 * weeks ago": two to four weeks back), the calendar weeks ("last week", "this week") and weekends.
 */
function stretchOf(text: string, asOf: Date): Pick<TimeWindow, 'from' | 'to'> | null {
  const words = text.trim().replace(/\s+/g, ' ');
  const toNow = SPAN_TO_NOW.exec(words);
  if (toNow) {
    const unit = toNow[2] as Unit;
    const said = toNow[1];
    const count = said === undefined ? 1 : countOf(said);
    return { from: unitsBefore(asOf, count, unit), to: startOf(asOf, 'day') + DAY };
  }
  const ago = VAGUE_AGO.exec(words);
  if (ago) {
    const count = countOf(ago[1] as string);
    const unit = ago[2] as Unit;
    return { from: unitsBefore(asOf, count + 1, unit), to: unitsBefore(asOf, count - 1, unit) + DAY };
  }
  // Of the calendar units before this one only the week needs help: chrono reads "last month" and
  // "last year" as their whole month and year, "last week" as one day a week back.
  if (/^(?:the )?(?:last|previous) week$/i.test(words)) {
    const thisWeek = startOfWeek(asOf);
    return { from: thisWeek - 7 * DAY, to: thisWeek };
  }
  if (/^this week$/i.test(words)) {
    const thisWeek = startOfWeek(asOf);
    return { from: thisWeek, to: thisWeek + 7 * DAY };
  }
  if (/^next week$/i.test(words)) {
    const thisWeek = startOfWeek(asOf);
    return { from: thisWeek + 7 * DAY, to: thisWeek + 14 * DAY };
  }
  // A weekend is its Saturday and Sunday; chrono reads one of the two.
  const weekend = /^(?:on )?(?:the )?(last|previous|past|this past|this|next) weekend$/i
    .exec(words)?.[1]
    ?.toLowerCase();
  if (weekend) {
    const saturday =
      startOfWeek(asOf) + 5 * DAY + WEEKEND_WEEKS[weekend as keyof typeof WEEKEND_WEEKS] * 7 * DAY;
    return { from: saturday, to: saturday + 2 * DAY };
  }
  return null;
}

/** The earliest time a Date holds: a window open at its start reaches every memory before its end. */
export const OPEN_START = -8_640_000_000_000_000;

/** A year as people write one: 1800 to 2999. */
const YEAR = String.raw`((?:1[89]|2\d)\d{2})`;
/** A number followed by a unit or a count of things is an amount, not a year ("in 2000 meters"). */
const NOT_AMOUNT = String.raw`(?!\s*(?:%|percent|meters?|metres?|m|km|kilomet(?:er|re)s?|miles?|mi|feet|foot|ft|yards?|steps|calories|kcal|cal|kg|kilos?|grams?|g|lbs?|pounds?|dollars?|euros?|usd|eur|people|persons|words|pages|points|times|units|items|hours?|minutes?|seconds?|pieces?|ml|lit(?:er|re)s?|gallons?)\b)`;
/** A year said alone after a preposition ("in 2024", "before 2023"), which chrono does not read. */
const BARE_YEAR = new RegExp(
  String.raw`\b(?:in|during|since|before|after|until|till|by|of|from|between|prior to)\s+${YEAR}\b${NOT_AMOUNT}`,
  'i',
);
/** The second year of "between 2019 and 2021" or "from 2019 to 2021", just after the first. */
const SECOND_YEAR = new RegExp(String.raw`^\s*${JOIN_WORD}\s*${YEAR}\b${NOT_AMOUNT}`, 'i');
/** What stands between the two times of a join, and nothing else. */
const ONLY_JOIN_WORD = new RegExp(String.raw`^\s*${JOIN_WORD}\s*$`, 'i');

/** A time found in the query; `later`, for a month whose year chrono chose ahead of the question, is that choice. */
type Found = TimeWindow & { implied: boolean; later?: Pick<TimeWindow, 'from' | 'to'> };

function yearWindow(year: string, index: number): Found {
  const y = Number(year);
  return {
    from: Date.UTC(y, 0, 1),
    to: Date.UTC(y + 1, 0, 1),
    text: year,
    index,
    relative: false,
    implied: false,
  };
}

/** One year back, the same month and day. */
function yearBefore(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear() - 1, d.getUTCMonth(), d.getUTCDate());
}

/** The window one parsed expression names, or null for one that names no date. */
function windowOf(result: chrono.ParsedResult, asOf: Date): Found | null {
  const said = { text: result.text, index: result.index, relative: !CALENDAR_NAME.test(result.text) };
  const stretch = stretchOf(result.text, asOf);
  if (stretch) return { ...stretch, ...said, implied: false };
  const start = result.start;
  const known = ['day', 'weekday', 'month', 'year'].some((c) => start.isCertain(c as chrono.Component));
  if (!known && !/\b(day|week|weekend|month|year|ago|yesterday|today)\b/i.test(result.text)) return null;
  const startSpan = spanOf(start);
  const end = result.end ?? start;
  const from = startOf(new Date(utcDayOf(start)), startSpan);
  const to = endOf(new Date(utcDayOf(end)), result.end ? spanOf(result.end) : startSpan);
  const implied = !start.isCertain('year') && !said.relative && !/\d{4}/.test(result.text);
  // A month named without its year ("since March") is the last one, not chrono's nearest, which
  // may lie after the question: memories are of what has happened. Not a day ("on March 3"): a
  // plan for the coming days is asked about too.
  if (implied && startSpan === 'month' && from >= endOf(asOf, 'day')) {
    return { from: yearBefore(from), to: yearBefore(to), ...said, implied, later: { from, to } };
  }
  return { from, to, ...said, implied };
}

/** The years said alone, the second of "between 2019 and 2021" too. */
function bareYears(query: string): { window: Found; next?: Found } | null {
  const year = BARE_YEAR.exec(query);
  if (!year?.[1]) return null;
  const end = year.index + year[0].length;
  const window = yearWindow(year[1], end - year[1].length);
  const second = SECOND_YEAR.exec(query.slice(end));
  if (!second?.[1]) return { window };
  return { window, next: yearWindow(second[1], end + second[0].length - second[1].length) };
}

/**
 * The first time the query names (and the one after it), from chrono, else a year said alone
 * after a preposition. A clock time ("at 9pm") names no window and is passed over.
 */
function firstWindow(query: string, asOf: Date): { window: Found; next?: Found } | null {
  const windows = parseTimeExpressions(query, asOf).flatMap((result) => windowOf(result, asOf) ?? []);
  const [window, next] = windows;
  if (window) return { window, ...(next ? { next } : {}) };
  return bareYears(query);
}

/**
 * "between March and May 2024", "from 2019 to 2021": the two times as one, when they come in
 * order. A month without its year takes the year that puts it before the other end: "March" goes
 * back to 2024 beside "May 2024", and "August" keeps chrono's year beside a June just past.
 */
function joined(window: Found, next: Found): Pick<TimeWindow, 'from' | 'to'> | null {
  const ends = next.later && next.later.to > window.from ? next.later : next;
  let from = window.from;
  let to = window.to;
  for (let back = 0; window.implied && from >= ends.to && back < 2; back++) {
    from = yearBefore(from);
    to = yearBefore(to);
  }
  return ends.to > from ? { from, to: Math.max(to, ends.to) } : null;
}

/**
 * The words just before a time can open it at one end or join it to the next time: "before June
 * 2024" is everything up to June, "until June" up to its end, "after June" from July and "since
 * March" from March up to the day asked, "between March and May" March to May's end.
 */
function bounded(query: string, found: { window: Found; next?: Found }, asOf: Date): TimeWindow {
  const { implied: _implied, later: _later, ...window } = found.window;
  const { next } = found;
  const before = query.slice(0, window.index);
  const untilAsked = (from: number) => Math.max(endOf(asOf, 'day'), from + DAY);
  if (next && /\b(?:between|from)\s+$/i.test(before)) {
    const link = query.slice(window.index + window.text.length, next.index);
    const both = ONLY_JOIN_WORD.test(link) ? joined(found.window, next) : null;
    if (both) return { ...window, ...both, text: query.slice(window.index, next.index + next.text.length) };
  }
  if (/\b(?:before|prior to)\s+$/i.test(before)) return { ...window, from: OPEN_START, to: window.from };
  // Not "by": "How many had she won by 10 July?" asks about that day's count, said that day.
  if (/\b(?:until|till)\s+$/i.test(before)) return { ...window, from: OPEN_START };
  if (/\bafter\s+$/i.test(before)) return { ...window, from: window.to, to: untilAsked(window.to) };
  if (/\bsince\s+$/i.test(before)) return { ...window, to: untilAsked(window.from) };
  return window;
}

/**
 * The time window a query asks about ("in May 2023", "last week", "on 7 May", "in the past two
 * weeks", "in 2024", "before June 2024", "between March and May"), resolved against `asOf` (the
 * time the question is asked). Null when the query names no date.
 */
export function parseQueryTime(query: string, asOf: Date): TimeWindow | null {
  const found = firstWindow(query, asOf);
  return found ? bounded(query, found, asOf) : null;
}

/** The end of the UTC day `time` falls in. */
export function endOfDay(time: number): number {
  return endOf(new Date(time), 'day');
}

/** The time a date stated in a turn covers (`YYYY-MM-DD`, a day, or the month or year it begins). */
export function statedSpan(date: string, span: 'month' | 'year' | undefined): { from: number; to: number } {
  const start = new Date(`${date}T00:00:00Z`);
  return { from: start.getTime(), to: endOf(start, span ?? 'day') };
}
