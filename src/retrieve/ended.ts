import type { ItemOrigin } from '../store/store.js';
import { OPEN_START, type TimeWindow } from './query-time.js';

/** A ranked hit: its item id and score. */
interface Ranked {
  id: string;
  score: number;
}

/**
 * The time a question is about, for what was still true then: the start of the time it names
 * ("in March 2024"), else when it is asked. A time open at its start ("before June 2024", "until
 * next Friday") is about its end, or about when it is asked if that comes first: Portland, ended
 * in June, was true before June, but "until next Friday" asks about now.
 */
export function timeAskedAbout(named: Pick<TimeWindow, 'from' | 'to'> | null, askedAt: number): number {
  if (!named) return askedAt;
  return named.from === OPEN_START ? Math.min(named.to - 1, askedAt) : named.from;
}

/**
 * A memory marked as no longer true by the time a question is about ("I live in Portland", its
 * `validTo` set when the user moved) scores × `factor`: the fact that replaced it ranks above it,
 * and it stays findable, below, for questions about its own time. `about` is that time
 * (`timeAskedAbout`). A hit whose origin is
 * not in `origins` keeps its score. The result is re-sorted, stably; a lowered hit carries
 * `ended`, its factor.
 */
export function lowerEndedFacts<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  about: number,
  factor: number,
): Array<T & { ended?: number }> {
  if (factor >= 1) return hits;
  let lowered = false;
  const scored = hits.map((hit) => {
    const endsAt = origins.get(hit.id)?.endsAt;
    if (endsAt === undefined || endsAt > about) return hit;
    lowered = true;
    return { ...hit, score: hit.score * factor, ended: factor };
  });
  return lowered ? scored.sort((a, b) => b.score - a.score) : hits;
}
