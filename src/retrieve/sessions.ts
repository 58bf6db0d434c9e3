import type { SearchHit } from '../core/types.js';

/** How many of the best fused hits the session strengths are taken from. */
export const SESSION_POOL = 100;
/** A session's strength sums its best few hits: several relevant turns beat one lucky match. */
const TURNS_PER_SESSION = 3;

/** Sum of each session's best `TURNS_PER_SESSION` scores; hits arrive best first. */
function sessionStrengths(hits: SearchHit[]): Map<string, number> {
  const counted = new Map<string, number>();
  const strength = new Map<string, number>();
  for (const { item, score } of hits) {
    if (item.sessionId === null) continue;
    const n = counted.get(item.sessionId) ?? 0;
    if (n >= TURNS_PER_SESSION) continue;
    counted.set(item.sessionId, n + 1);
    strength.set(item.sessionId, (strength.get(item.sessionId) ?? 0) + score);
  }
  return strength;
}

/**
 * Session-level evidence: a session with several relevant turns is likelier to hold the answer
 * than a stray match elsewhere, so each hit's score is multiplied by 1 + boost × (its session's
 * strength / the strongest session's). Hits must be ordered best first; the result is re-sorted.
 */
export function boostSessions(hits: SearchHit[], boost: number): SearchHit[] {
  const strength = sessionStrengths(hits);
  const strongest = Math.max(0, ...strength.values());
  if (strongest === 0) return hits;
  return hits
    .map((hit) => {
      const share = hit.item.sessionId === null ? 0 : (strength.get(hit.item.sessionId) ?? 0) / strongest;
      return { ...hit, score: hit.score * (1 + boost * share) };
    })
    .sort((a, b) => b.score - a.score || a.item.id.localeCompare(b.item.id));
}
