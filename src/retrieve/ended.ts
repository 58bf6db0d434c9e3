import type { ItemOrigin } from '../store/store.js';

/** A ranked hit: its item id and score. */
interface Ranked {
  id: string;
  score: number;
}

/**
 * A memory marked as no longer true by the time a question is about ("I live in Portland", its
 * `validTo` set when the user moved) scores × `factor`: the fact that replaced it ranks above it,
 * and it stays findable, below, for questions about its own time. `about` is that time: the start
 * of the time the question names ("in March 2024"), else when it is asked. A hit whose origin is
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
