import type { ParsedComponents } from 'chrono-node';
import { parseTimeExpressions, utcDayOf } from '../../core/time-expressions.js';

export interface ResolvedDate {
  /** The words in the text, e.g. "last Friday". */
  text: string;
  /** The day they point at, `YYYY-MM-DD` (UTC); the first day of the month or year for a span. */
  date: string;
  /** Absent for a day; a month ("last month", "in May 2023") or a year ("last year", "in 2022"). */
  span?: 'month' | 'year';
}

/** Words that name a day, or a stretch of days, within a longer expression: the day is meant. */
const DAY_WORDS = /\b(day|days|week|weeks|weekend|yesterday|today|tomorrow|tonight)\b/i;

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
    const span = spanOf(start, result.text);
    const iso = new Date(day).toISOString();
    const date =
      span === 'year'
        ? `${iso.slice(0, 4)}-01-01`
        : span === 'month'
          ? `${iso.slice(0, 7)}-01`
          : iso.slice(0, 10);
    found.push({ text: result.text, date, ...(span ? { span } : {}) });
  }
  return found;
}

/**
 * How much time an expression names: a day unless it leaves the day out ("last month", "in May
 * 2023" name a month; "last year", "in 2022" a year), when chrono only implies the day.
 */
function spanOf(start: ParsedComponents, text: string): 'month' | 'year' | undefined {
  if (start.isCertain('day') || start.isCertain('weekday') || DAY_WORDS.test(text)) return undefined;
  if (start.isCertain('month') || /\bmonths?\b/i.test(text)) return 'month';
  if (start.isCertain('year') || /\byears?\b/i.test(text)) return 'year';
  return undefined;
}

/**
 * Searchable spellings of a date: a day's `2023-05-07 7 May 2023 May 2023 Sunday`, a month's
 * `May 2023`, a year's `2023`.
 */
export function dateKeys({ date, span }: Pick<ResolvedDate, 'date' | 'span'>): string {
  const d = new Date(`${date}T00:00:00Z`);
  const month = MONTHS[d.getUTCMonth()];
  const year = d.getUTCFullYear();
  if (span === 'year') return String(year);
  if (span === 'month') return `${month} ${year}`;
  return `${date} ${d.getUTCDate()} ${month} ${year} ${month} ${year} ${WEEKDAYS[d.getUTCDay()]}`;
}
