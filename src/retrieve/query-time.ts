import * as chrono from 'chrono-node';

export interface TimeWindow {
  from: number;
  to: number;
  /** The words of the query that set the window. */
  text: string;
}

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

/**
 * The time window a query asks about ("in May 2023", "last week", "on 7 May"), resolved
 * against `asOf` (the time the question is asked). Null when the query names no date.
 */
export function parseQueryTime(query: string, asOf: Date): TimeWindow | null {
  const [result] = chrono.parse(query, asOf, { forwardDate: false });
  if (!result) return null;
  const start = result.start;
  const known = ['day', 'weekday', 'month', 'year'].some((c) => start.isCertain(c as chrono.Component));
  if (!known && !/\b(day|week|weekend|month|year|ago|yesterday|today)\b/i.test(result.text)) return null;
  const startSpan = spanOf(start);
  const end = result.end ?? start;
  return {
    from: startOf(start.date(), startSpan),
    to: endOf(end.date(), result.end ? spanOf(result.end) : startSpan),
    text: result.text,
  };
}
