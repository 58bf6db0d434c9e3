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

/** What the session boosts did to a hit: its score × each factor present. */
interface SessionFactors {
  sessionBoost?: number;
  sessionTopicBoost?: number;
}

/** The session of a hit's item; null when it has none or its origin is unknown. */
function sessionOf(origins: Map<string, ItemOrigin>, id: string): string | null {
  return origins.get(id)?.session ?? null;
}

/** Sum of each session's best `TURNS_PER_SESSION` scores; hits arrive best first. */
function sessionStrengths(hits: Ranked[], origins: Map<string, ItemOrigin>): Map<string, number> {
  const counted = new Map<string, number>();
  const strength = new Map<string, number>();
  for (const { id, score } of hits) {
    const session = sessionOf(origins, id);
    if (session === null) continue;
    const n = counted.get(session) ?? 0;
    if (n >= TURNS_PER_SESSION) continue;
    counted.set(session, n + 1);
    strength.set(session, (strength.get(session) ?? 0) + score);
  }
  return strength;
}

/**
 * Each hit's score × (1 + boost × its session's share), the factor kept on the hit under `field`
 * (so a search can say why it rose) where the share is above 0. Re-sorted, stably: hits the
 * factors leave tied keep the order they came in (ids made in one millisecond do not sort by
 * insertion).
 */
function raiseBySession<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  shareOf: (session: string) => number,
  boost: number,
  field: keyof SessionFactors,
): Array<T & SessionFactors> {
  return hits
    .map((hit): T & SessionFactors => {
      const session = sessionOf(origins, hit.id);
      const share = session === null ? 0 : shareOf(session);
      if (!(share > 0)) return hit;
      const factor = 1 + boost * share;
      return { ...hit, score: hit.score * factor, [field]: factor };
    })
    .sort((a, b) => b.score - a.score);
}

/**
 * Session-level evidence: a session with several relevant turns is likelier to hold the answer
 * than a stray match elsewhere, so each hit's score is multiplied by 1 + boost × (its session's
 * strength / the strongest session's), the factor kept as `sessionBoost`. Hits must be ordered
 * best first; `origins` maps their ids to sessions (ids it lacks have none). Re-sorted, stably.
 */
export function boostSessions<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  boost: number,
): Array<T & SessionFactors> {
  if (boost === 0) return hits;
  const strength = sessionStrengths(hits, origins);
  const strongest = Math.max(0, ...strength.values());
  if (strongest === 0) return hits;
  return raiseBySession(hits, origins, (s) => (strength.get(s) ?? 0) / strongest, boost, 'sessionBoost');
}

/**
 * Each session's topic score: the best cosine of its user turns among the vector channel's hits,
 * min-max normalised over those sessions, so the best-matching session scores 1 and the least 0.
 * Only the user's turns without a speaker count: a user's turn to an assistant carries no
 * speaker, and between named people one session holds many topics. Empty when fewer than two
 * sessions differ.
 */
export function sessionTopics(vectorHits: Ranked[], origins: Map<string, ItemOrigin>): Map<string, number> {
  const best = new Map<string, number>();
  for (const { id, score } of vectorHits) {
    const origin = origins.get(id);
    if (origin?.role !== 'user' || origin.speaker !== null || origin.session === null) continue;
    if (!Number.isFinite(score)) continue;
    best.set(origin.session, Math.max(score, best.get(origin.session) ?? score));
  }
  const top = Math.max(...best.values());
  const low = Math.min(...best.values());
  if (!(top > low)) return new Map();
  return new Map([...best].map(([session, cosine]) => [session, (cosine - low) / (top - low)]));
}

/**
 * Each hit's score × (1 + boost × its session's topic score), the factor kept as
 * `sessionTopicBoost`; hits of sessions without one keep theirs. Hits must be ordered best first;
 * the result is re-sorted, stably.
 */
export function boostSessionTopics<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  topics: Map<string, number>,
  boost: number,
): Array<T & SessionFactors> {
  if (boost === 0 || topics.size === 0) return hits;
  return raiseBySession(hits, origins, (s) => topics.get(s) ?? 0, boost, 'sessionTopicBoost');
}
