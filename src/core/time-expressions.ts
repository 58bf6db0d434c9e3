import type * as chrono from 'chrono-node';
import { lazyModule } from './lazy-module.js';

const chronoModule = lazyModule<typeof chrono>('chrono-node');

const MONTH = String.raw`(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?`;
/** The words that join two times into one stretch: "between March and May", "from 2019 to 2021". */
export const JOIN_WORD = String.raw`(?:and|to|through|until|till|-|–)`;
/** A time that can end a join: a month or a day, or the part of one ("the end of June", "mid-June"). */
const JOIN_END = String.raw`(?:the\s+(?:end|start|beginning|middle)\s+of\s+|early\s+|late\s+|mid-?\s*)?(?:${MONTH}|\d)`;

/**
 * Where a capitalised "May" is the month, not the verb or a name; chrono reads it only after
 * "in". After a word that times it ("since May", "before May?"), unless a verb follows, as one
 * follows a name ("after May left"); first in a join whose other end is a time ("between May and
 * July", "from May to the end of June"); last in a join whose first end is a month ("between
 * March and May").
 */
const TIMED_BEFORE = /\b(?:in|during|since|before|after|until|till|early|late|mid|last|this|next)\s+$/i;
const JOIN_BEFORE = /\b(?:between|from)\s+$/i;
const JOIN_AFTER = new RegExp(String.raw`^\s*(?:\d{4}\s*)?${JOIN_WORD}\s*${JOIN_END}`, 'i');
const JOINED_BEFORE = new RegExp(
  String.raw`\b(?:between|from)\s+(?:early\s+|late\s+|mid-?\s*)?${MONTH}(?:\s+\d{1,2}(?:st|nd|rd|th)?)?(?:,?\s+\d{4})?\s+${JOIN_WORD}\s*$`,
  'i',
);
/** What may follow the month: the end, a mark (not a possessive's), a number, a capitalised word, or a word that is no verb. */
const MONTH_FOLLOWED =
  /^(?:\s*$|(?!['’]s\b)[^\w\s]|\s+(?:\d|[A-Z]|(?:and|or|to|through|until|till|when|while|but|so|then|in|of|for|at|on|with|we|you|he|she|they|it|my|our|his|her|their|the|this|that|last|next|already|now|onwards?)\b))/;

/** Whether a result chrono would drop as the verb "may" reads as the month where it stands. */
function isMayTheMonth(context: chrono.ParsingContext, result: chrono.ParsingResult): boolean {
  if (result.text !== 'May') return false;
  const before = context.text.slice(0, result.index);
  const after = context.text.slice(result.index + result.text.length);
  if (JOIN_BEFORE.test(before)) return JOIN_AFTER.test(after);
  if (JOINED_BEFORE.test(before)) return true;
  return TIMED_BEFORE.test(before) && MONTH_FOLLOWED.test(after);
}

/**
 * chrono's casual English parser, whose filter of unlikely results (`ENUnlikelyFormatFilter`)
 * lets "May" through where it is the month (`isMayTheMonth`), not only after "in": the filter sees
 * the results without those, and they rejoin its output in order.
 */
let parser: chrono.Chrono | undefined;
function chronoParser(): chrono.Chrono {
  if (parser) return parser;
  const custom = chronoModule().casual.clone();
  custom.refiners = custom.refiners.map((refiner) =>
    refiner.constructor.name === 'ENUnlikelyFormatFilter'
      ? {
          refine: (context: chrono.ParsingContext, results: chrono.ParsingResult[]) => {
            const months = results.filter((r) => isMayTheMonth(context, r));
            if (months.length === 0) return refiner.refine(context, results);
            const others = refiner.refine(
              context,
              results.filter((r) => !months.includes(r)),
            );
            return [...others, ...months].sort((a, b) => a.index - b.index);
          },
        }
      : refiner,
  );
  parser = custom;
  return custom;
}

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
