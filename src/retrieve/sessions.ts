import type { ItemOrigin } from '../store/store.js';

/** How many of the best fused hits the session strengths are taken from. */
export const SESSION_POOL = 100;
/** A session's strength sums its best few hits: several relevant turns beat one lucky match. */
const TURNS_PER_SESSION = 3;

/** A ranked hit: its item id and score. */
interface Ranked {
  id: string;
  score: number;
}

/** Sum of each session's best `TURNS_PER_SESSION` scores; hits arrive best first. */
function sessionStrengths(hits: Ranked[], origins: Map<string, ItemOrigin>): Map<string, number> {
  const counted = new Map<string, number>();
  const strength = new Map<string, number>();
  for (const { id, score } of hits) {
    const session = origins.get(id)?.session;
    if (session === null || session === undefined) continue;
    const n = counted.get(session) ?? 0;
    if (n >= TURNS_PER_SESSION) continue;
    counted.set(session, n + 1);
    strength.set(session, (strength.get(session) ?? 0) + score);
  }
  return strength;
}

/**
 * Session-level evidence: a session with several relevant turns is likelier to hold the answer
 * than a stray match elsewhere, so each hit's score is multiplied by 1 + boost × (its session's
 * strength / the strongest session's). Hits must be ordered best first; `origins` maps their ids
 * to sessions (ids it lacks have none). The result is re-sorted, stably: hits the boost leaves
 * tied keep the order they came in (ids made in one millisecond do not sort by insertion).
 */
export function boostSessions<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  boost: number,
): T[] {
  if (boost === 0) return hits;
  const strength = sessionStrengths(hits, origins);
  const strongest = Math.max(0, ...strength.values());
  if (strongest === 0) return hits;
  return hits
    .map((hit) => {
      const session = origins.get(hit.id)?.session;
      const share = session === null || session === undefined ? 0 : (strength.get(session) ?? 0) / strongest;
      return { ...hit, score: hit.score * (1 + boost * share) };
    })
    .sort((a, b) => b.score - a.score);
}
