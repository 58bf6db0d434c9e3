import * as chrono from 'chrono-node';

/**
 * chrono-node 2.10 reads "last night" against the reference's day in the process's time zone,
 * where its other casual words ("yesterday", "tonight") use the reference's own zone; this sets
 * the day as they would (the day before, unless the reference is before 7 in the morning).
 */
const lastNightInReferenceZone: chrono.Refiner = {
  refine: (context, results) => {
    for (const result of results) {
      if (!/^last\s*night$/i.test(result.text)) continue;
      const day = context.reference.getDateWithAdjustedTimezone();
      if (day.getHours() > 6) day.setDate(day.getDate() - 1);
      result.start.assign('year', day.getFullYear());
      result.start.assign('month', day.getMonth() + 1);
      result.start.assign('day', day.getDate());
    }
    return results;
  },
};

const parser = chrono.casual.clone();
parser.refiners.push(lastNightInReferenceZone);

/**
 * The time expressions in `text` (chrono-node), read against `reference` on the UTC calendar, as
 * the rest of memcube reads days: a date never depends on the time zone of the process that
 * parsed it (read in the process's zone, a server at UTC+13 took "on 7 May" for 6 May and "in
 * May 2023" for April). Past readings are preferred: memories and questions look back.
 */
export function parseTimeExpressions(text: string, reference: Date): chrono.ParsedResult[] {
  return parser.parse(text, { instant: reference, timezone: 'UTC' }, { forwardDate: false });
}
