import { parseTimeExpressions, utcDayOf } from '../../core/time-expressions.js';

export interface ResolvedDate {
  /** The words in the text, e.g. "last Friday". */
  text: string;
  /** The day they point at, `YYYY-MM-DD` (UTC). */
  date: string;
}

/** Words that make a time expression a date even when chrono only implies the day. */
const RELATIVE_DATE =
  /\b(day|days|week|weeks|weekend|month|months|year|years|ago|yesterday|today|tomorrow|tonight)\b/i;

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * Finds the dates a message refers to and resolves relative ones ("yesterday", "last Friday",
 * "next month") against the message's own time. Bare clock times ("at 5") are not dates and are
 * left out.
 */
export function resolveEventDates(text: string, messageTime: Date): ResolvedDate[] {
  const found: ResolvedDate[] = [];
  for (const result of parseTimeExpressions(text, messageTime)) {
    const start = result.start;
    const isDate =
      start.isCertain('day') ||
      start.isCertain('month') ||
      start.isCertain('year') ||
      start.isCertain('weekday') ||
      RELATIVE_DATE.test(result.text);
    if (!isDate) continue;
    const day = utcDayOf(start);
    if (Number.isNaN(day)) continue;
    found.push({ text: result.text, date: new Date(day).toISOString().slice(0, 10) });
  }
  return found;
}

/** Searchable spellings of a day: `2023-05-07 7 May 2023 May 2023 Sunday`. */
export function dateKeys(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const month = MONTHS[d.getUTCMonth()];
  const year = d.getUTCFullYear();
  return `${date} ${d.getUTCDate()} ${month} ${year} ${month} ${year} ${WEEKDAYS[d.getUTCDay()]}`;
}
