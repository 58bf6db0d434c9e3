import type * as chrono from 'chrono-node';
import { lazyModule } from './lazy-module.js';

const chronoParser = lazyModule<typeof chrono>('chrono-node');

/**
 * A Date whose fields in the process's time zone are the UTC fields of `instant`. chrono-node
 * reads its reference with local-time getters in several parsers ("last night", "this month",
 * the year of "on 7 May", a range past midnight) even when told the reference's zone, so it is
 * given the UTC wall clock as local time instead.
 */
function utcWallClock(instant: Date): Date {
  return new Date(
    instant.getUTCFullYear(),
    instant.getUTCMonth(),
    instant.getUTCDate(),
    instant.getUTCHours(),
    instant.getUTCMinutes(),
    instant.getUTCSeconds(),
    instant.getUTCMilliseconds(),
  );
}

/**
 * The time expressions in `text` (chrono-node), read against `reference` on the UTC calendar, as
 * the rest of memcube reads days: a date never depends on the time zone of the process that
 * parsed it (read in the process's zone, a server at UTC+13 took "on 7 May" for 6 May and "in May
 * 2023" for April). Read a result's day with `utcDayOf`, not its `date()`. Past readings are
 * preferred: memories and questions look back.
 */
export function parseTimeExpressions(text: string, reference: Date): chrono.ParsedResult[] {
  return chronoParser().parse(text, utcWallClock(reference), { forwardDate: false });
}

/**
 * The UTC midnight of the day a parsed date names, from its calendar fields (chrono implies the
 * ones the text leaves out; NaN were one ever missing).
 */
export function utcDayOf(components: chrono.ParsedComponents): number {
  const field = (name: chrono.Component) => components.get(name) ?? Number.NaN;
  return Date.UTC(field('year'), field('month') - 1, field('day'));
}
